// Command repeatcap writes a capture N times over into a new one, each copy
// later than the one before, for benchmarks that need a larger capture of
// real traffic: repeatcap -n 10 IN OUT.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

func main() {
	n := flag.Int("n", 10, "copies")
	flag.Parse()
	if flag.NArg() != 2 || *n < 1 {
		fmt.Fprintln(os.Stderr, "usage: repeatcap [-n COPIES] IN OUT")
		os.Exit(2)
	}
	if err := repeat(flag.Arg(0), flag.Arg(1), *n); err != nil {
		fmt.Fprintln(os.Stderr, "repeatcap:", err)
		os.Exit(1)
	}
}

// repeat copies in to out n times. Copy i is shifted by i times the
// capture's span plus a second, and its sequence numbers by i times the
// largest one, so the result reads as one long recording.
func repeat(in, out string, n int) error {
	var first, last time.Time
	var maxSeq uint64
	var section capfile.SectionInfo
	stats, hasStats, err := each(in, func(r *capfile.Reader, rec *capfile.Record) error {
		section = r.Section()
		if first.IsZero() || rec.Time.Before(first) {
			first = rec.Time
		}
		if rec.Time.After(last) {
			last = rec.Time
		}
		maxSeq = max(maxSeq, rec.Seq)
		return nil
	})
	if err != nil {
		return err
	}
	opts := capfile.WriterOptions{Section: section, NoPacketComments: true}
	w, err := capfile.Create(out, opts)
	if err != nil {
		return err
	}
	shift := last.Sub(first) + time.Second
	for i := range n {
		_, _, err := each(in, func(_ *capfile.Reader, rec *capfile.Record) error {
			rec.Time = rec.Time.Add(time.Duration(i) * shift)
			rec.Seq += uint64(i) * maxSeq
			return w.Write(rec)
		})
		if err != nil {
			w.Close()
			return err
		}
	}
	if hasStats {
		// The recorder's closing statistics, as if it had recorded every copy.
		stats.End = stats.End.Add(time.Duration(n-1) * shift)
		stats.Received *= uint64(n)
		stats.Dropped *= uint64(n)
		if err := w.WriteStats(stats); err != nil {
			w.Close()
			return err
		}
	}
	return w.Close()
}

// each calls fn on every record of the capture at path and returns its closing statistics.
func each(path string, fn func(*capfile.Reader, *capfile.Record) error) (capfile.Stats, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return capfile.Stats{}, false, err
	}
	defer f.Close()
	r, err := capfile.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return capfile.Stats{}, false, fmt.Errorf("read %s: %w", path, err)
	}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			st, ok := r.Stats()
			return st, ok, nil
		}
		if err != nil {
			return capfile.Stats{}, false, fmt.Errorf("read %s: %w", path, err)
		}
		if err := fn(r, rec); err != nil {
			return capfile.Stats{}, false, err
		}
	}
}

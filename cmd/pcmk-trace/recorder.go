package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/capture"
	"github.com/pcmk-trace/pcmk-trace/redact"
)

// recorder is the state of one pcmk-trace record run.
type recorder struct {
	o      *recordOptions
	stdout io.Writer
	stderr io.Writer
	t      *capture.Tracer
	w      *capfile.Writer
	start  time.Time
	status *status // the live counters, on stderr when it is a terminal
	// redactor removes secrets before records are written, with --redact
	redactor *redact.Redactor
	// onRecord, if set, sees every record kept before it is recycled (record --otlp).
	onRecord func(*capfile.Record)

	mu       sync.Mutex // guards out (printing) against the flush loop
	out      *bufio.Writer
	messages uint64
	bytes    uint64
	perKey   map[flowKey]*flowCount

	writeErr error // writing the capture failed (a full disk): recording stopped
}

type flowKey struct {
	service string
	channel capfile.Channel
	rx      bool
}

type flowCount struct{ messages, bytes uint64 }

func (r *recorder) loop(ctx context.Context, stop context.CancelFunc) error {
	for {
		rec, err := r.t.Read(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.o.count > 0 && r.messages >= r.o.count && rec.Kind != capfile.KindLoss {
			r.t.Recycle(rec)
			continue // draining after --count: only losses still count
		}
		if rec.Kind == capfile.KindMessage {
			r.messages++
			r.bytes += uint64(len(rec.Data))
			k := flowKey{rec.Service, rec.Channel, rec.Flags&capfile.FlagRX != 0}
			c := r.perKey[k]
			if c == nil {
				c = &flowCount{}
				r.perKey[k] = c
			}
			c.messages++
			c.bytes += uint64(len(rec.Data))
		}
		if err := r.output(rec); err != nil {
			return err
		}
		if r.onRecord != nil {
			r.onRecord(rec)
		}
		if r.o.count > 0 && r.messages >= r.o.count && rec.Kind == capfile.KindMessage {
			stop()
		}
		r.t.Recycle(rec) // written out: its memory serves the next message
	}
}

// output writes a record to the file, or prints it, redacted first with
// --redact (which may hold it back with a multipart message's parts).
func (r *recorder) output(rec *capfile.Record) error {
	recs := []*capfile.Record{rec}
	if r.redactor != nil {
		recs = r.redactor.Record(rec)
	}
	return r.outputAll(recs)
}

func (r *recorder) outputAll(recs []*capfile.Record) error {
	for _, rec := range recs {
		if r.w != nil {
			if err := r.w.Write(rec); err != nil {
				r.writeErr = err
				return err
			}
			continue
		}
		r.mu.Lock()
		r.status.clear()
		writeLine(r.out, rec)
		r.mu.Unlock()
	}
	return nil
}

// flushLoop makes the capture file, or the printed lines, appear as they come.
func (r *recorder) flushLoop(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if r.w != nil {
			r.w.Flush()
		} else {
			r.mu.Lock()
			r.out.Flush()
			r.mu.Unlock()
		}
	}
}

// liveLoop shows the counters on the terminal's last line.
func (r *recorder) liveLoop(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.status.clear()
			return
		case <-tick.C:
		}
		s := r.t.Stats()
		r.mu.Lock()
		if r.out != nil {
			r.out.Flush()
		}
		r.status.set(true, func() string {
			return fmt.Sprintf("%d messages, %s, %d lost", s.Messages, formatBytes(s.Bytes), s.LostTotal())
		})
		r.mu.Unlock()
	}
}

func (r *recorder) finish(loopErr error) error {
	end := time.Now()
	stats := r.t.Stats()
	var errs []error
	if loopErr != nil && loopErr != r.writeErr {
		errs = append(errs, loopErr)
	}
	if r.redactor != nil {
		if err := r.outputAll(r.redactor.Flush()); err != nil {
			errs = append(errs, err)
		}
	}
	var unwritten string
	if r.w != nil {
		if r.writeErr == nil {
			r.writeErr = r.w.WriteStats(capfile.Stats{Start: r.start, End: end, Received: r.messages, Dropped: stats.LostTotal()})
		}
		if err := r.w.Close(); err != nil && r.writeErr == nil {
			r.writeErr = err
		}
		if r.writeErr != nil {
			errs = append(errs, r.writeErr)
			unwritten = fmt.Sprintf("  not written: the messages from the failed write on (%v)\n", r.writeErr)
			if r.o.output != "-" {
				if n, b, err := r.unwritten(); err == nil {
					unwritten = fmt.Sprintf("  not written: %d messages, %s (%d bytes); the file holds those before\n", n, formatBytes(b), b)
				}
			}
		}
	} else {
		r.out.Flush()
	}
	if err := r.t.Close(); err != nil {
		errs = append(errs, err)
	}
	r.summary(stats, end.Sub(r.start))
	fmt.Fprint(r.stderr, unwritten)
	if len(errs) > 0 {
		return fmt.Errorf("record: %w", errors.Join(errs...))
	}
	return nil
}

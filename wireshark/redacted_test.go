package wireshark

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
	"github.com/pcmk-trace/pcmk-trace/redact"
)

// TestDissectorOnRedacted dissects a redacted copy of every recorded
// capture: recompressed bodies, multipart messages and fixed-up lengths
// must look as right to Wireshark as the originals.
func TestDissectorOnRedacted(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testcluster.Skip(t, "tshark not installed (scripts/deps)")
	}
	files, _ := filepath.Glob("../testdata/captures/*.pcapng")
	if len(files) == 0 {
		testcluster.Skip(t, "no captures in testdata/captures")
	}
	script, _ := filepath.Abs("pcmk-trace.lua")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "redacted.pcapng")
			changed := redactFile(t, file, out)
			if changed == 0 {
				t.Fatal("nothing redacted")
			}
			dissect(t, tshark, script, out)
		})
	}
}

// redactFile writes a redacted copy of in (the sandbox's node names taken for secrets)
// and returns how many messages changed.
func redactFile(t *testing.T, in, out string) uint64 {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	rules := redact.Rules{Values: []string{"node1", "node2", "node3"}}
	red, err := redact.New(redact.Options{Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	var opts capfile.WriterOptions
	opts.Section = cr.Section()
	opts.Section.Redacted = rules.Describe()
	w, err := capfile.Create(out, opts)
	if err != nil {
		t.Fatal(err)
	}
	write := func(recs []*capfile.Record) {
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				t.Fatal(err)
			}
		}
	}
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		write(red.Record(rec))
	}
	write(red.Flush())
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return red.Stats().Changed
}

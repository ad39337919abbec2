package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// sequentialJSON decodes path in one goroutine, the plain way, as the
// reference for the command's concurrent pipeline.
func sequentialJSON(t *testing.T, path string) string {
	t.Helper()
	return sequentialJSONFiltered(t, path, decode.Filter{})
}

// sequentialJSONFiltered is sequentialJSON with decode's own filter f.
func sequentialJSONFiltered(t *testing.T, path string, filter decode.Filter) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	jf := decode.NewJSONFormatter(&out)
	var opts decode.Options
	opts.Filter = filter
	dr := decode.NewReader(cr, opts)
	for {
		m, err := dr.Next()
		if err != nil {
			break
		}
		if err := jf.Format(m); err != nil {
			t.Fatal(err)
		}
	}
	jf.Close()
	return out.String()
}

func runDecodeCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"decode"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// The command's pipeline (reading, decoding and formatting in goroutines of
// their own) must print exactly what a plain sequential decode prints.
func TestDecodeCommandMatchesSequential(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/captures/*.pcapng")
	if len(paths) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			requireSequential(t, p, "-f", "json", p)
		})
	}
}

// requireSequential runs decode with args and fails unless its output is
// that of a sequential decode of the capture at path.
func requireSequential(t *testing.T, path string, args ...string) {
	t.Helper()
	got, stderr, err := runDecodeCmd(t, args...)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	if want := sequentialJSON(t, path); got != want {
		t.Fatalf("output differs from a sequential decode (%d vs %d bytes)", len(got), len(want))
	}
}

// A capture cut short (the recorder was killed) gives every message before
// the cut, a note saying so, and exit status 1.
func TestDecodeCommandTruncatedFile(t *testing.T) {
	data, err := os.ReadFile("../../testdata/captures/bookworm-workload.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	cut := filepath.Join(t.TempDir(), "cut.pcapng")
	if err := os.WriteFile(cut, data[:len(data)*2/3], 0o600); err != nil {
		t.Fatal(err)
	}
	got, stderr, err := runDecodeCmd(t, "-f", "json", cut)
	var ec exitCode
	if !errors.As(err, &ec) || ec.code != 1 {
		t.Fatalf("error %v, want exit status 1", err)
	}
	if !strings.Contains(stderr, "cut.pcapng") || !strings.Contains(stderr, "was the recorder killed?") {
		t.Errorf("stderr does not explain the cut: %q", stderr)
	}
	want := sequentialJSON(t, cut)
	if got != want || strings.Count(got, "\n") < 100 {
		t.Fatalf("got %d lines, want the %d lines before the cut", strings.Count(got, "\n"), strings.Count(want, "\n"))
	}
}

// From a pipe (perhaps a live recorder) messages are handed on one by one;
// the output is the same.
func TestDecodeCommandStdin(t *testing.T) {
	const path = "../../testdata/captures/trixie-workload.pcapng"
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		f, err := os.Open(path)
		if err == nil {
			io.Copy(w, f)
			f.Close()
		}
		w.Close()
	}()
	stdin := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = stdin; r.Close() }()
	requireSequential(t, path, "-f", "json", "-")
}

// A damaged packet in the middle is reported and decoding goes on past it:
// the reading goroutine must not stop at the first damaged record.
func TestDecodeCommandDamagedPacket(t *testing.T) {
	data, err := os.ReadFile("../../testdata/captures/sid-workload.pcapng")
	if err != nil {
		t.Fatal(err)
	}
	magic := []byte(capfile.HeaderMagic)
	at, n := 0, 0
	for n < 50 {
		i := bytes.Index(data[at:], magic)
		if i < 0 {
			t.Fatal("fewer than 50 packets")
		}
		at += i + 1
		n++
	}
	data = bytes.Clone(data)
	data[at-1] = 'X' // the 50th packet's pseudo-header magic
	bad := filepath.Join(t.TempDir(), "bad.pcapng")
	if err := os.WriteFile(bad, data, 0o600); err != nil {
		t.Fatal(err)
	}
	got, _, err := runDecodeCmd(t, "-f", "json", bad)
	var ec exitCode
	if !errors.As(err, &ec) || ec.code != 1 {
		t.Fatalf("error %v, want exit status 1", err)
	}
	if !strings.Contains(got, `"kind":"invalid"`) {
		t.Error("no invalid record for the damaged packet")
	}
	if want := sequentialJSON(t, bad); got != want {
		t.Fatalf("got %d lines, want %d", strings.Count(got, "\n"), strings.Count(want, "\n"))
	}
	if all := sequentialJSON(t, "../../testdata/captures/sid-workload.pcapng"); strings.Count(got, "\n") < strings.Count(all, "\n")-2 {
		t.Fatalf("decoding stopped at the damaged packet: %d of %d lines", strings.Count(got, "\n"), strings.Count(all, "\n"))
	}
}

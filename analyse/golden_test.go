package analyse

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

var update = flag.Bool("update", false, "rewrite golden files")

// captureDir holds the real regression captures (see its README).
var captureDir = filepath.Join("..", "testdata", "captures")

// rxDir holds real captures with the receive side (record --rx), which
// the regression captures lack (see its README).
var rxDir = "testdata"

// captures returns the paths of the regression captures that decode
// without error (not fail-*), and of the receive-side captures.
func captures(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(captureDir, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	rx, err := filepath.Glob(filepath.Join(rxDir, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	paths = append(paths, rx...)
	var out []string
	for _, p := range paths {
		if !strings.HasPrefix(filepath.Base(p), "fail-") {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Skipf("no captures in %s", captureDir)
	}
	return out
}

// decodeFile returns every message of the capture at path, decoded with
// decode's default options.
func decodeFile(t testing.TB, path string) []*decode.Message {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	rd := decode.NewReader(cr, decode.Options{})
	var msgs []*decode.Message
	for {
		m, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
}

func aggregate(msgs []*decode.Message) *Aggregator {
	a := New(Config{})
	for _, m := range msgs {
		a.Add(m)
	}
	return a
}

// TestGoldenCaptures pins the stats of every regression and receive-side
// capture as text (times in UTC), JSON lines and CSV: <case>.stats.golden,
// <case>.stats.json.golden and <case>.stats.csv.golden next to it.
func TestGoldenCaptures(t *testing.T) {
	for _, path := range captures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".pcapng")
		t.Run(name, func(t *testing.T) {
			a := aggregate(decodeFile(t, path))
			tables, err := a.Tables()
			if err != nil {
				t.Fatal(err)
			}
			stem := strings.TrimSuffix(path, ".pcapng") + ".stats"
			var text, jsonl, csv bytes.Buffer
			if err := WriteText(&text, tables, time.UTC); err != nil {
				t.Fatal(err)
			}
			if err := WriteJSON(&jsonl, tables); err != nil {
				t.Fatal(err)
			}
			if err := WriteCSV(&csv, tables); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, stem+".golden", text.Bytes())
			checkGolden(t, stem+".json.golden", jsonl.Bytes())
			checkGolden(t, stem+".csv.golden", csv.Bytes())
		})
	}
}

// checkGolden compares got with the golden file at path, or rewrites the
// file when the test runs with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < max(len(gl), len(wl)); i++ {
		var g, w string
		if i < len(gl) {
			g = gl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if g != w {
			t.Fatalf("%s differs at line %d:\ngot:  %.300s\nwant: %.300s\n(run go test -update if the change is intended)", path, i+1, g, w)
		}
	}
}

package analyse

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// flowUpdating reports whether the test runs with -update.
func flowUpdating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// flowCaptures returns the regression captures.
func flowCaptures(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../testdata/captures/*.pcapng")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	return files
}

// flowBuild decodes a capture with opts and builds its flow diagram.
func flowBuild(t *testing.T, path string, filter decode.Filter, fo FlowOptions) (*Flow, *FlowBuilder) {
	t.Helper()
	file, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	cr, err := capfile.NewReader(bufio.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var opts decode.Options
	opts.Filter = filter
	dr := decode.NewReader(cr, opts)
	b := NewFlowBuilder(fo)
	for {
		m, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !b.Add(m) {
			break
		}
	}
	return b.Flow(), b
}

// flowGolden compares got with the golden file, or rewrites it with -update.
func flowGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if flowUpdating() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s: line %d differs:\n got: %s\nwant: %s\n(run with -update to accept)", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s: %d lines, want %d (run with -update to accept)", path, len(gl), len(wl))
	}
}

// TestFlowGoldenCaptures writes every regression capture as a text ladder
// and a Mermaid diagram and compares them with goldens.
func TestFlowGoldenCaptures(t *testing.T) {
	for _, path := range flowCaptures(t) {
		name := strings.TrimSuffix(filepath.Base(path), ".pcapng")
		t.Run(name, func(t *testing.T) {
			f, _ := flowBuild(t, path, decode.Filter{}, FlowOptions{Max: 500})
			var text, mermaid bytes.Buffer
			if err := WriteFlowText(&text, f, 120); err != nil {
				t.Fatal(err)
			}
			flowGolden(t, filepath.Join("testdata", "flow", name+".text.golden"), text.Bytes())
			if err := WriteFlowMermaid(&mermaid, f); err != nil {
				t.Fatal(err)
			}
			flowGolden(t, filepath.Join("testdata", "flow", name+".mermaid.golden"), mermaid.Bytes())
		})
	}
}

// TestFlowWriteSVGFile writes the SVG of a capture to $FLOW_SVG, for looking at.
func TestFlowWriteSVGFile(t *testing.T) {
	out := os.Getenv("FLOW_SVG")
	if out == "" {
		t.Skip("FLOW_SVG not set")
	}
	f, _ := flowBuild(t, "../testdata/captures/bookworm-workload.pcapng", decode.Filter{}, FlowOptions{Max: 40})
	var b bytes.Buffer
	if err := WriteFlowSVG(&b, f); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestFlowAround selects a failed reply's conversation and what followed it.
func TestFlowAround(t *testing.T) {
	const capture = "../testdata/captures/bookworm-workload.pcapng"
	for _, tc := range []struct {
		window time.Duration
		want   []uint64
	}{
		// The request it answers, though older than the window.
		{0, []uint64{16, 17}},
		// Its connection within 1ms before (register, its reply, the request),
		// then everything within 1ms after: the next request and based's
		// corosync traffic; the notifications come 1.5ms later.
		{time.Millisecond, []uint64{14, 15, 16, 17, 18, 19, 20}},
	} {
		f, b := flowBuild(t, capture, decode.Filter{}, FlowOptions{Max: 500, Around: 17, Window: tc.window})
		var got []uint64
		for _, a := range f.Arrows {
			got = append(got, a.Msg.Seq)
		}
		if !slices.Equal(got, tc.want) || !b.Found() {
			t.Errorf("window %v: seqs %v, want %v", tc.window, got, tc.want)
		}
		if b.Add(&decode.Message{Kind: decode.KindMessage, Seq: 1 << 40, Time: f.Arrows[0].Msg.Time.Add(time.Hour)}) {
			t.Errorf("window %v: the builder still takes messages after the window", tc.window)
		}
		if a := f.Arrows[slices.Index(got, 17)]; a.Pair < 0 || f.Arrows[a.Pair].Msg.Seq != 16 || !a.Error {
			t.Errorf("window %v: #17 not paired with #16 or not an error: %+v", tc.window, a)
		}
	}
	if _, b := flowBuild(t, capture, decode.Filter{}, FlowOptions{Around: 1 << 40}); b.Found() {
		t.Error("a seq the capture lacks was found")
	}
}

// TestFlowPlantUMLChecks has PlantUML, when installed, check the syntax of
// every capture's diagram.
func TestFlowPlantUMLChecks(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Java program; -short runs only the quick tests")
	}
	bin, err := exec.LookPath("plantuml")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("plantuml not installed: scripts/deps installs it")
		}
		t.Skip("plantuml not installed")
	}
	dir := t.TempDir()
	var files []string
	for _, path := range flowCaptures(t) {
		f, _ := flowBuild(t, path, decode.Filter{}, FlowOptions{Max: 500})
		var b bytes.Buffer
		if err := WriteFlowPlantUML(&b, f); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, strings.TrimSuffix(filepath.Base(path), ".pcapng")+".puml")
		if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, out)
	}
	if out, err := exec.Command(bin, append([]string{"-checkonly", "-failfast2"}, files...)...).CombinedOutput(); err != nil {
		t.Errorf("plantuml rejects a diagram: %v\n%s", err, out)
	}
}

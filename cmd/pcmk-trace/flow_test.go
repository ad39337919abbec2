package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const flowCapture = "../../testdata/captures/bookworm-workload.pcapng"

func runFlowCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"flow"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// A cut selection says so on stderr and in the diagram, with how to narrow it.
func TestFlowCommandCap(t *testing.T) {
	out := filepath.Join(t.TempDir(), "flow.svg")
	_, stderr, err := runFlowCmd(t, "--max", "10", "-o", out, flowCapture)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if !strings.Contains(stderr, "showing the first 10 of ") || !strings.Contains(stderr, "--around SEQ") {
		t.Errorf("stderr lacks the cut note: %q", stderr)
	}
	svg, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(svg))
	arrows := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("the SVG is not well-formed: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
			for _, a := range se.Attr {
				if a.Name.Local == "class" && strings.HasPrefix(a.Value, "msg") {
					arrows++
				}
			}
		}
	}
	if arrows != 10 || !bytes.Contains(svg, []byte("showing the first 10 of ")) {
		t.Errorf("%d arrows (want 10), or the note is missing from the SVG", arrows)
	}
}

// Filters, --around and formats as decode's: a reply's conversation in text.
func TestFlowCommandAroundText(t *testing.T) {
	stdout, stderr, err := runFlowCmd(t, "-f", "text", "--width", "100", "--around", "17", "--window", "0s", "--service", "cib_rw", flowCapture)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 2 || !strings.Contains(lines[len(lines)-2], " 16 ") || !strings.Contains(lines[len(lines)-1], "cib_query 93.1µs rc=-6") {
		t.Errorf("want #16 and its failed reply #17:\n%s", stdout)
	}
	for _, l := range lines {
		if n := len([]rune(l)); n > 100 {
			t.Errorf("line of %d columns, over --width 100: %q", n, l)
		}
	}
	if stderr != "" {
		t.Errorf("stderr: %q", stderr)
	}
}

func TestFlowCommandErrors(t *testing.T) {
	var ec exitCode
	if _, _, err := runFlowCmd(t, "-f", "png", flowCapture); !errors.As(err, &ec) || ec.code != 2 {
		t.Errorf("unknown format: %v, want exit status 2", err)
	}
	if _, _, err := runFlowCmd(t, "--around", "999999", flowCapture); !errors.As(err, &ec) || ec.code != 1 || !strings.Contains(err.Error(), "no such message") {
		t.Errorf("missing --around seq: %v, want exit status 1", err)
	}
	for _, f := range []string{"mermaid", "plantuml"} {
		stdout, _, err := runFlowCmd(t, "-f", f, "--op", "cib_query", flowCapture)
		if err != nil || !strings.Contains(stdout, ": cib_query") || strings.Contains(stdout, "register") {
			t.Errorf("-f %s --op cib_query: %v\n%s", f, err, stdout)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runReportCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"report"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// TestReportCommandCaptures writes the report of every regression capture
// and of the receive-side one: a complete page, the sections analyse's test
// checks in detail, and a backlog chart only where the receive side is.
func TestReportCommandCaptures(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/captures/*.pcapng")
	if len(paths) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	paths = append(paths, rxCapture)
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "r.html")
			stdout, stderr, err := runReportCmd(t, "--utc", "-o", out, p)
			if err != nil || stdout != "" || stderr != "" {
				t.Fatalf("report: %v, stdout %q, stderr %q", err, stdout, stderr)
			}
			page, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			s := string(page)
			if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.HasSuffix(s, "</html>\n") {
				t.Errorf("not a whole HTML page (%d bytes)", len(s))
			}
			for _, id := range []string{`id="ops"`, `id="rate-chart"`, `id="size-chart"`, `id="latency-1"`, `class="r-flow"`, `data-table="clients"`} {
				if !strings.Contains(s, id) {
					t.Errorf("no %s", id)
				}
			}
			if rx := p == rxCapture; strings.Contains(s, `id="backlog-chart"`) != rx {
				t.Errorf("backlog chart present: %v, want %v", !rx, rx)
			}
			if !strings.Contains(s, "<dt>Pacemaker</dt>") || !strings.Contains(s, "<dt>Command</dt>") {
				t.Errorf("the header lacks the section header's Pacemaker version or command line")
			}
		})
	}
}

func TestReportCommandFlags(t *testing.T) {
	stdout, stderr, err := runReportCmd(t, "-h")
	if err != nil || stderr != "" || !strings.Contains(stdout, "Usage: pcmk-trace report") || !strings.Contains(stdout, "Example:") {
		t.Errorf("-h: %v, stdout %q, stderr %q", err, stdout, stderr)
	}
	_, stderr, err = runReportCmd(t, rxCapture)
	var ec exitCode
	if !errors.As(err, &ec) || ec.code != 2 || !strings.Contains(stderr, "Usage:") {
		t.Errorf("without -o: %v, stderr %q; want a usage error", err, stderr)
	}
	stdout, _, err = runReportCmd(t, "-o", "-", "--service", "cib_rw", rxCapture)
	if err != nil || !strings.HasPrefix(stdout, "<!DOCTYPE html>") {
		t.Errorf("-o -: %v, %d bytes", err, len(stdout))
	}
	if strings.Contains(stdout, "<td>attrd</td>") {
		t.Errorf("--service cib_rw kept attrd")
	}
}

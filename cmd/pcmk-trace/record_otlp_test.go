//go:build linux && amd64

package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestRecordOTLP records an exchange with --otlp: the collector gets, live,
// the spans that export makes of the file recorded alongside.
func TestRecordOTLP(t *testing.T) {
	testcluster.RequireRoot(t)
	c := &collector{status: http.StatusOK}
	srv := httptest.NewServer(c)
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "x.pcapng")
	recordExchange(t, "-w", file, "--otlp", srv.URL)
	spans := dryRunSpans(t, file)
	if len(spans) == 0 {
		t.Fatal("no spans in the recorded file")
	}
	c.mu.Lock()
	got := c.spans
	c.mu.Unlock()
	if got != len(spans) {
		t.Errorf("the collector got %d spans live, export makes %d of the file", got, len(spans))
	}
}

// TestRecordOTLPUsage refuses a URL that is not one before recording.
func TestRecordOTLPUsage(t *testing.T) {
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"record", "--otlp", "localhost:4318"}, &out, &errOut)
	if ec, ok := err.(exitCode); !ok || ec.code != 2 || !strings.Contains(err.Error(), "--otlp") {
		t.Errorf("%v, want a usage error", err)
	}
}

// TestRecordOTLPJaeger records the sandboxed cluster's workload with --otlp
// into a real Jaeger: Jaeger ends up holding the spans export makes of the
// file recorded alongside.
func TestRecordOTLPJaeger(t *testing.T) {
	testcluster.RequireRoot(t)
	bin := jaegerBinary(t)
	c := testcluster.Require(t)
	otlpURL, queryURL := startJaeger(t, bin)
	file := filepath.Join(t.TempDir(), "live.pcapng")
	rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID), "--otlp", otlpURL)
	script, err := os.Open("../../scripts/workload")
	if err != nil {
		t.Fatal(err)
	}
	defer script.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := c.Command(ctx, "bash", "-s", "cib", "attrd", "ctl")
	cmd.Stdin = script
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("workload: %v\n%s", err, out)
	}
	time.Sleep(time.Second)
	rec.stop(t)
	if !strings.Contains(rec.stderr.String(), " 0 failed, 0 dropped; 0 records not exported") {
		t.Errorf("summary: %s", rec.stderr.String())
	}

	want := dryRunSpans(t, file)
	services := map[string]bool{}
	from, to := want[0].Start, want[0].End
	for _, s := range want {
		services[s.Service] = true
		from, to = minTime(from, s.Start), maxTime(to, s.End)
	}
	var names []string
	for s := range services {
		names = append(names, s)
	}
	got := jaegerSpans(t, queryURL, names, from.Add(-time.Minute), to.Add(time.Minute))
	kinds := map[string]int{}
	for _, s := range got {
		kinds[fmt.Sprint(s.tag("span.kind"))]++
	}
	wantKinds := map[string]int{}
	for _, s := range want {
		wantKinds[s.Kind]++
	}
	t.Logf("%d spans recorded live, %d exported from the file; kinds %v", len(got), len(want), kinds)
	if len(got) != len(want) || fmt.Sprint(kinds) != fmt.Sprint(wantKinds) {
		t.Errorf("jaeger holds %d spans %v, export makes %d %v of the file", len(got), kinds, len(want), wantKinds)
	}
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

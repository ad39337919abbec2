package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	collpb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/pcmk-trace/pcmk-trace/export"
)

const exportCapture = "../../testdata/captures/bookworm-workload.pcapng"

func runExportCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"export"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// dryRunSpans returns the spans export --dry-run prints for args.
func dryRunSpans(t *testing.T, args ...string) []export.SpanJSON {
	t.Helper()
	out, stderr, err := runExportCmd(t, append([]string{"--dry-run"}, args...)...)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	var spans []export.SpanJSON
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var s export.SpanJSON
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatalf("%v: %s", err, sc.Text())
		}
		spans = append(spans, s)
	}
	return spans
}

func TestExportDryRun(t *testing.T) {
	spans := dryRunSpans(t, exportCapture)
	kinds := map[string]int{}
	for _, s := range spans {
		kinds[s.Kind]++
		if s.Attributes["pcmk.node"] != "vm" {
			t.Fatalf("span without the capture's node: %+v", s)
		}
	}
	// 128 requests (a CLIENT and a SERVER span each), 84 other messages.
	if len(spans) != 340 || kinds["client"] != 128 || kinds["server"] != 128 || kinds["producer"] != 84 {
		t.Errorf("%d spans, kinds %v", len(spans), kinds)
	}
	again := dryRunSpans(t, exportCapture)
	for i := range spans {
		if spans[i].SpanID != again[i].SpanID || spans[i].TraceID != again[i].TraceID {
			t.Fatal("two runs gave different ids")
		}
	}
	two := dryRunSpans(t, exportCapture, "../../testdata/captures/bookworm-big-cib.pcapng")
	if big := dryRunSpans(t, "../../testdata/captures/bookworm-big-cib.pcapng"); len(two) != len(spans)+len(big) {
		t.Errorf("two files: %d spans, want %d + %d", len(two), len(spans), len(big))
	}
	only := dryRunSpans(t, "--service", "attrd", exportCapture)
	if len(only) == 0 || len(only) >= len(spans) {
		t.Errorf("--service attrd: %d spans of %d", len(only), len(spans))
	}
	for _, s := range only {
		if s.Attributes["rpc.service"] != "attrd" {
			t.Errorf("--service attrd kept %v", s.Attributes["rpc.service"])
		}
	}
}

func TestExportUsage(t *testing.T) {
	for _, args := range [][]string{
		{exportCapture},
		{"--otlp", "http://127.0.0.1:1", "--dry-run", exportCapture},
		{"--otlp", "127.0.0.1:4318", exportCapture},
		{"--dry-run"},
	} {
		_, _, err := runExportCmd(t, args...)
		if ec, ok := err.(exitCode); !ok || ec.code != 2 {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}

// collector is a fake OTLP/HTTP endpoint.
type collector struct {
	mu     sync.Mutex
	spans  int
	status int // the answer: 200, or a refusal
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" {
		http.Error(w, "bad request", http.StatusNotFound)
		return
	}
	var req collpb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if c.status != http.StatusOK {
		http.Error(w, "refused", c.status)
		return
	}
	c.mu.Lock()
	for _, rs := range req.ResourceSpans {
		for _, ss := range rs.ScopeSpans {
			c.spans += len(ss.Spans)
		}
	}
	c.mu.Unlock()
	out, _ := proto.Marshal(&collpb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(out)
}

func TestExportOTLP(t *testing.T) {
	c := &collector{status: http.StatusOK}
	srv := httptest.NewServer(c)
	defer srv.Close()
	_, stderr, err := runExportCmd(t, "--otlp", srv.URL, exportCapture)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	if c.spans != 340 {
		t.Errorf("the collector got %d spans, want 340", c.spans)
	}
	if !strings.Contains(stderr, "340 spans exported, 0 failed, 0 dropped") {
		t.Errorf("summary: %s", stderr)
	}
}

func TestExportOTLPRefused(t *testing.T) {
	srv := httptest.NewServer(&collector{status: http.StatusBadRequest})
	defer srv.Close()
	_, stderr, err := runExportCmd(t, "--otlp", srv.URL, exportCapture)
	if ec, ok := err.(exitCode); !ok || ec.code != 1 {
		t.Fatalf("%v, want exit status 1; stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr, "0 spans exported, 340 failed") || !strings.Contains(err.Error(), "400") {
		t.Errorf("err %v; stderr: %s", err, stderr)
	}
}

// TestExportOTLPDown ends quickly, exit status 1, when nothing listens.
func TestExportOTLPDown(t *testing.T) {
	url := fmt.Sprintf("http://127.0.0.1:%d", freePort(t))
	start := time.Now()
	_, stderr, err := runExportCmd(t, "--otlp", url, exportCapture)
	if ec, ok := err.(exitCode); !ok || ec.code != 1 {
		t.Fatalf("%v, want exit status 1; stderr: %s", err, stderr)
	}
	if !strings.Contains(stderr, "0 spans exported, 340 failed") {
		t.Errorf("stderr: %s", stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %v", d)
	}
}

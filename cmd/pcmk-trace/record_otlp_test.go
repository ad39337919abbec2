//go:build linux && amd64

package main

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

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

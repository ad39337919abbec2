//go:build linux && amd64

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testRecorder is `pcmk-trace record` running in the test process.
type testRecorder struct {
	stdout bytes.Buffer // read it after stop
	stderr bytes.Buffer
	cancel context.CancelFunc
	done   chan error
}

// startRecorder runs `pcmk-trace record ARGS --ready-file ...` in the background and returns
// once every probe is attached.
func startRecorder(t *testing.T, args ...string) *testRecorder {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	r := &testRecorder{cancel: cancel, done: make(chan error, 1)}
	t.Cleanup(cancel)
	go func() {
		r.done <- run(ctx, append(append([]string{"record"}, args...), "--ready-file", ready), &r.stdout, &r.stderr)
	}()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			return r
		}
		select {
		case err := <-r.done:
			t.Fatalf("record ended before it was ready: %v\n%s", err, r.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("no ready file; stderr: %s", r.stderr.String())
		}
	}
}

// stop ends the recorder as Ctrl-C would and fails the test if it failed.
func (r *testRecorder) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	if err := <-r.done; err != nil {
		t.Fatalf("record: %v\n%s", err, r.stderr.String())
	}
}

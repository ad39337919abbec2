//go:build linux && amd64

package capture

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"
)

// TestCloseEndsRead: Close from another goroutine ends a Read waiting on
// an empty ring with os.ErrClosed (it must not read unmapped memory), and
// Read keeps saying so.
func TestCloseEndsRead(t *testing.T) {
	requireRoot(t)
	tr := openTracer(t, Config{Services: []string{"no-such-service"}})
	done := make(chan error, 1)
	go func() {
		for {
			if _, err := tr.Read(context.Background()); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(100 * time.Millisecond) // Read is waiting by now
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrClosed) {
			t.Fatalf("Read after Close: %v, want os.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Read still waiting 5 s after Close")
	}
	if _, err := tr.Read(context.Background()); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Read after Close: %v", err)
	}
}

// TestReadDrainsThenEOF: once its context is done, Read returns io.EOF
// when the ring is empty.
func TestReadDrainsThenEOF(t *testing.T) {
	requireRoot(t)
	tr := openTracer(t, Config{Services: []string{"no-such-service"}})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	for {
		_, err := tr.Read(ctx)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

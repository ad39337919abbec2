//go:build !(linux && amd64)

package capture

import (
	"context"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Tracer records libqb IPC messages; on this system it cannot be opened.
type Tracer struct{}

// Open returns ErrUnsupported: capture needs Linux on x86_64.
func Open(cfg Config) (*Tracer, error) { return nil, ErrUnsupported }

// Libraries returns nil.
func (t *Tracer) Libraries() []Library { return nil }

// Read returns ErrUnsupported.
func (t *Tracer) Read(ctx context.Context) (*capfile.Record, error) { return nil, ErrUnsupported }

// Stats returns zero counters.
func (t *Tracer) Stats() Stats { return Stats{} }

// Recycle is a no-op where recording is not supported.
func (t *Tracer) Recycle(rec *capfile.Record) {}

// Close does nothing.
func (t *Tracer) Close() error { return nil }

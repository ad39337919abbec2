package export

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// instrumentation names the tracer every span comes from.
const instrumentation = "github.com/pcmk-trace/pcmk-trace/export"

// SinkOptions tune a [Sink].
type SinkOptions struct {
	// Blocking makes ending a span wait for room in the queue instead of
	// dropping the span: right for a file, wrong for a live recorder that
	// must not fall behind.
	Blocking bool
	// BatchSize is the spans per export request (default 512), QueueSize
	// how many may wait (default 8192), BatchTimeout how long a partial
	// batch waits (default 1s).
	BatchSize    int
	QueueSize    int
	BatchTimeout time.Duration
	// StopOnError fails every export after the first failed one at once,
	// instead of trying (and retrying) each batch: a file's export ends
	// quickly when the backend refuses or is down.
	StopOnError bool
}

// Process is the resource of the spans of one process: the node, the
// service name (the daemon or command) and its pid.
type Process struct {
	Node    string
	Service string
	Comm    string // the command name as recorded
	PID     uint32
}

// Sink batches the spans of any number of processes to one exporter.
// Each process is a resource of its own, hence a TracerProvider of its
// own; they share one batch processor.
type Sink struct {
	exp  *countingExporter
	proc sdktrace.SpanProcessor
	ids  *idGenerator

	mu      sync.Mutex
	tracers map[Process]trace.Tracer
	ended   atomic.Uint64
}

// maxTracers bounds the providers kept; beyond it they are made anew.
const maxTracers = 4096

// NewSink returns a sink sending spans to exp. Shutdown flushes it and
// shuts exp down.
func NewSink(exp sdktrace.SpanExporter, o SinkOptions) *Sink {
	if o.BatchSize <= 0 {
		o.BatchSize = 512
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 8192
	}
	if o.BatchTimeout <= 0 {
		o.BatchTimeout = time.Second
	}
	s := &Sink{exp: &countingExporter{inner: exp, stop: o.StopOnError}, ids: &idGenerator{}, tracers: map[Process]trace.Tracer{}}
	opts := []sdktrace.BatchSpanProcessorOption{
		sdktrace.WithMaxExportBatchSize(o.BatchSize),
		sdktrace.WithMaxQueueSize(o.QueueSize),
		sdktrace.WithBatchTimeout(o.BatchTimeout),
	}
	if o.Blocking {
		opts = append(opts, sdktrace.WithBlocking())
	}
	s.proc = sdktrace.NewBatchSpanProcessor(s.exp, opts...)
	return s
}

// tracer returns the tracer of process p.
func (s *Sink) tracer(p Process) trace.Tracer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tracers[p]; ok {
		return t
	}
	if len(s.tracers) >= maxTracers {
		clear(s.tracers) // short-lived tools come and go; a provider is cheap to make again
	}
	attrs := []attribute.KeyValue{
		attribute.String("service.name", p.Service),
		attribute.Int("process.pid", int(p.PID)),
	}
	if p.Comm != "" {
		attrs = append(attrs, attribute.String("process.command", p.Comm))
	}
	if p.Node != "" {
		attrs = append(attrs, attribute.String("host.name", p.Node))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(attrs...)),
		sdktrace.WithIDGenerator(s.ids),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(sharedProcessor{s}),
	)
	t := tp.Tracer(instrumentation)
	s.tracers[p] = t
	return t
}

// SinkStats count the spans a sink handled.
type SinkStats struct {
	Ended    uint64 // spans ended, handed to the batch processor
	Exported uint64 // spans the backend accepted
	Failed   uint64 // spans in export requests that failed
	Err      error  // the first export error
}

// Dropped returns the spans neither exported nor failed: dropped by a full
// queue (a sink that is not Blocking), or still queued before Shutdown.
func (st SinkStats) Dropped() uint64 { return st.Ended - st.Exported - st.Failed }

// Stats returns the counts so far; they are final after Shutdown.
func (s *Sink) Stats() SinkStats {
	st := SinkStats{Ended: s.ended.Load()}
	s.exp.mu.Lock()
	st.Exported, st.Failed, st.Err = s.exp.exported, s.exp.failed, s.exp.err
	s.exp.mu.Unlock()
	return st
}

// Shutdown exports what is queued and shuts the exporter down.
func (s *Sink) Shutdown(ctx context.Context) error {
	return s.proc.Shutdown(ctx)
}

// sharedProcessor is the sink's batch processor as each provider sees it:
// a provider's shutdown must not shut it down.
type sharedProcessor struct{ s *Sink }

func (p sharedProcessor) OnStart(ctx context.Context, sp sdktrace.ReadWriteSpan) {
	p.s.proc.OnStart(ctx, sp)
}

func (p sharedProcessor) OnEnd(sp sdktrace.ReadOnlySpan) {
	p.s.ended.Add(1)
	p.s.proc.OnEnd(sp)
}

func (p sharedProcessor) Shutdown(context.Context) error { return nil }

func (p sharedProcessor) ForceFlush(ctx context.Context) error { return p.s.proc.ForceFlush(ctx) }

// countingExporter counts what the backend accepted and refused.
type countingExporter struct {
	inner sdktrace.SpanExporter
	stop  bool // fail at once after the first error

	mu               sync.Mutex
	exported, failed uint64
	err              error
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	if e.stop && e.err != nil {
		e.failed += uint64(len(spans))
		e.mu.Unlock()
		return e.err
	}
	e.mu.Unlock()
	err := e.inner.ExportSpans(ctx, spans)
	e.mu.Lock()
	defer e.mu.Unlock()
	if err != nil {
		e.failed += uint64(len(spans))
		if e.err == nil {
			e.err = err
		}
		return err
	}
	e.exported += uint64(len(spans))
	return nil
}

func (e *countingExporter) Shutdown(ctx context.Context) error {
	err := e.inner.Shutdown(ctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

package export

import (
	"context"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// discard takes spans and keeps none.
type discard struct{}

func (discard) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error { return nil }
func (discard) Shutdown(context.Context) error                             { return nil }

// BenchmarkExportConvert measures the conversion and the SDK's span
// handling, without decoding or sending: spans/s is the figure.
func BenchmarkExportConvert(b *testing.B) {
	msgs, sec := readCapture(b, "bookworm-workload.pcapng")
	var spans uint64
	for b.Loop() {
		sink := NewSink(discard{}, SinkOptions{Blocking: true})
		c := NewConverter(sink, Config{Source: "bench", Node: sec.Host})
		for _, m := range msgs {
			c.Add(m)
		}
		c.Close()
		sink.Shutdown(context.Background())
		spans += sink.Stats().Exported
	}
	b.ReportMetric(float64(spans)/b.Elapsed().Seconds(), "spans/s")
}

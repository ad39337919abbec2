package analyse

import (
	"path/filepath"
	"testing"
)

// BenchmarkAdd measures the Aggregator alone, in its steady state, over
// the messages of a real capture decoded beforehand, fed again and again.
func BenchmarkAdd(b *testing.B) {
	msgs := decodeFile(b, filepath.Join(captureDir, "bookworm-workload.pcapng"))
	a := New(Config{})
	for _, m := range msgs {
		a.Add(m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			a.Add(m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}

// BenchmarkTopAdd is BenchmarkAdd through a Top, which keeps only the
// tables top shows.
func BenchmarkTopAdd(b *testing.B) {
	msgs := decodeFile(b, filepath.Join(captureDir, "bookworm-workload.pcapng"))
	top := NewTop(Config{}, msgs[0].Time)
	for _, m := range msgs {
		top.Add(m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		for _, m := range msgs {
			top.Add(m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}

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

package analyse

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// BenchmarkAdd measures the Aggregator alone, in its steady state, over
// the messages of a real capture decoded beforehand, fed again and again
// as if the capture went on (see nextPass; its few ns per message count).
func BenchmarkAdd(b *testing.B) {
	msgs := decodeFile(b, filepath.Join(captureDir, "bookworm-workload.pcapng"))
	seqs, span := passShift(msgs)
	a := New(Config{})
	for _, m := range msgs {
		a.Add(m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		nextPass(msgs, seqs, span)
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
	seqs, span := passShift(msgs)
	top := NewTop(Config{}, msgs[0].Time)
	for _, m := range msgs {
		top.Add(m)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		nextPass(msgs, seqs, span)
		for _, m := range msgs {
			top.Add(m)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}

// passShift returns how far nextPass moves a capture's messages: past its
// last seq and its last time.
func passShift(msgs []*decode.Message) (seqs uint64, span time.Duration) {
	var first, last time.Time
	for _, m := range msgs {
		seqs = max(seqs, m.Seq)
		if !m.Time.IsZero() {
			if first.IsZero() {
				first = m.Time
			}
			last = m.Time
		}
	}
	return seqs, last.Sub(first) + time.Second
}

// nextPass moves msgs after themselves, so that the messages fed again
// are a capture going on: fed unchanged, their seqs would stand for the
// same requests again, and the in-flight queues would only grow.
func nextPass(msgs []*decode.Message, seqs uint64, span time.Duration) {
	for _, m := range msgs {
		m.Seq += seqs
		if !m.Time.IsZero() {
			m.Time = m.Time.Add(span)
		}
		if m.ReplyTo != nil {
			m.ReplyTo.Seq += seqs
		}
	}
}

package capfile

import (
	"bytes"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// benchMessages is the size of the benchmark files, in messages.
const benchMessages = 50000

// benchRecords returns records whose sizes look like Pacemaker traffic:
// mostly small XML requests and replies, some CIB-sized ones, a few large
// enough to need continuation packets.
func benchRecords(mixed bool) []*Record {
	rng := rand.New(rand.NewPCG(1, 2))
	data := payload(600<<10, 0)
	recs := make([]*Record, benchMessages)
	for i := range recs {
		n := 150 + rng.IntN(1350)
		if mixed {
			switch p := rng.IntN(1000); {
			case p < 2:
				n = 100<<10 + rng.IntN(500<<10)
			case p < 150:
				n = 1500 + rng.IntN(6500)
			}
		}
		rec := sample(uint64(i), data[:n])
		rec.Channel = Channel(1 + i%3)
		recs[i] = rec
	}
	return recs
}

var benchFiles struct {
	once         sync.Once
	small, mixed []byte
}

func benchFile(b *testing.B, mixed bool) []byte {
	benchFiles.once.Do(func() {
		benchFiles.small = writeFile(b, benchRecords(false)...)
		benchFiles.mixed = writeFile(b, benchRecords(true)...)
	})
	if mixed {
		return benchFiles.mixed
	}
	return benchFiles.small
}

// BenchmarkReader reads a 50,000-message file per iteration.
func BenchmarkReader(b *testing.B) {
	for _, bc := range []struct {
		name  string
		mixed bool
		into  bool
	}{
		{"small/Next", false, false},
		{"small/ReadInto", false, true},
		{"mixed/Next", true, false},
		{"mixed/ReadInto", true, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			file := benchFile(b, bc.mixed)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			start := time.Now()
			msgs := 0
			for b.Loop() {
				r, err := NewReader(bytes.NewReader(file))
				if err != nil {
					b.Fatal(err)
				}
				var rec Record
				for {
					if bc.into {
						err = r.ReadInto(&rec)
					} else {
						_, err = r.Next()
					}
					if err != nil {
						break
					}
					msgs++
				}
				if err != io.EOF {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(msgs)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

// BenchmarkPcapgoReader reads the same files with gopacket's reader, packets
// only, for comparison: it is what Reader would cost built on pcapgo.
func BenchmarkPcapgoReader(b *testing.B) {
	for _, bc := range []struct {
		name  string
		mixed bool
	}{{"small", false}, {"mixed", true}} {
		b.Run(bc.name, func(b *testing.B) {
			file := benchFile(b, bc.mixed)
			b.SetBytes(int64(len(file)))
			b.ReportAllocs()
			for b.Loop() {
				r, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
				if err != nil {
					b.Fatal(err)
				}
				for {
					if _, _, err = r.ZeroCopyReadPacketData(); err != nil {
						break
					}
				}
				if err != io.EOF {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWriter writes 50,000 small messages per iteration.
func BenchmarkWriter(b *testing.B) {
	recs := benchRecords(false)
	var size int64
	for _, r := range recs {
		size += int64(len(r.Data))
	}
	for _, comments := range []bool{true, false} {
		name := map[bool]string{true: "comments", false: "no-comments"}[comments]
		b.Run(name, func(b *testing.B) {
			var opts WriterOptions
			opts.NoPacketComments = !comments
			b.SetBytes(size)
			b.ReportAllocs()
			start := time.Now()
			msgs := 0
			for b.Loop() {
				w, err := NewWriter(io.Discard, opts)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				msgs += len(recs)
			}
			b.ReportMetric(float64(msgs)/time.Since(start).Seconds(), "msgs/s")
		})
	}
}

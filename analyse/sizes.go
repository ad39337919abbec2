package analyse

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Size is one row of the sizes table: the messages of one service.
type Size struct {
	Service    string
	Messages   uint64
	Bytes      uint64
	Max        int    // the largest message's Size
	OverBuffer uint64 // messages larger than BufferSize
	Compressed uint64
	Multipart  uint64 // messages sent in more than one part

	// Buckets[i] counts the messages of Size in [2^(i-1), 2^i), Buckets[0]
	// those of size 0.
	Buckets [65]uint64
}

// SizeBucket is one row of the size histogram: the messages of one
// service with Size in [From, To).
type SizeBucket struct {
	Service  string
	From, To uint64
	Messages uint64
}

// Largest is one of the largest messages of the capture.
type Largest struct {
	Seq     uint64
	Time    time.Time
	Service string
	Op      string
	Size    int
}

func (a *Aggregator) addSize(m *decode.Message) {
	s := a.sizes[m.Service]
	if s == nil {
		s = &Size{Service: m.Service}
		a.sizes[m.Service] = s
	}
	s.Messages++
	s.Bytes += uint64(m.Size)
	s.Max = max(s.Max, m.Size)
	if m.Size > BufferSize {
		s.OverBuffer++
	}
	if m.Compressed {
		s.Compressed++
	}
	if m.Parts > 1 {
		s.Multipart++
	}
	s.Buckets[bits.Len64(uint64(max(m.Size, 0)))]++

	// Keep the largest few, largest first; the earlier message wins a tie.
	n := a.cfg.Largest
	if len(a.largest) == n && m.Size <= a.largest[n-1].Size {
		return
	}
	l := Largest{Seq: m.Seq, Time: m.Time, Service: m.Service, Op: opName(m), Size: m.Size}
	i, _ := slices.BinarySearchFunc(a.largest, m.Size, func(x Largest, size int) int { return cmp.Compare(size, x.Size) })
	for i < len(a.largest) && a.largest[i].Size == m.Size {
		i++
	}
	a.largest = slices.Insert(a.largest, i, l)
	if len(a.largest) > n {
		a.largest = a.largest[:n]
	}
}

// Sizes returns the sizes table, by service.
func (a *Aggregator) Sizes() []Size {
	rows := make([]Size, 0, len(a.sizes))
	for _, s := range a.sizes {
		rows = append(rows, *s)
	}
	slices.SortFunc(rows, func(x, y Size) int { return cmp.Compare(x.Service, y.Service) })
	return rows
}

// SizeBuckets returns the non-empty buckets of the size histogram, by
// service and size.
func (a *Aggregator) SizeBuckets() []SizeBucket {
	var rows []SizeBucket
	for _, s := range a.Sizes() {
		for i, n := range s.Buckets {
			if n == 0 {
				continue
			}
			b := SizeBucket{Service: s.Service, Messages: n}
			if i > 0 {
				b.From, b.To = 1<<(i-1), 1<<i
				if i == 64 {
					b.To = 1<<64 - 1
				}
			} else {
				b.To = 1
			}
			rows = append(rows, b)
		}
	}
	return rows
}

// LargestMessages returns the largest messages, largest first.
func (a *Aggregator) LargestMessages() []Largest { return slices.Clone(a.largest) }

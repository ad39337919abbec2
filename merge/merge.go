package merge

import (
	"container/heap"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Input is one node's capture to merge.
type Input struct {
	Node   string          // the node's name; records are written on its interface
	Reader *capfile.Reader // positioned before the first record
	Offset time.Duration   // added to every record's time
}

// ErrStopped is returned by Merge when its progress function asked it to stop.
var ErrStopped = errors.New("merge: stopped")

// Stats counts what Merge did.
type Stats struct {
	Truncated []bool // per input: it ended before the recorder's closing block
	Records   int    // records written
	Damaged   []int  // per input: damaged packets skipped
}

// Merge writes the records of every input to w in order of corrected time (on a tie, the
// input listed first goes first; within an input, records keep their order). Records are
// renumbered from 1 in the order written, since each node's recorder numbered its own.
// progress, when not nil, is called after every 4096 records with the count so far; when it
// returns false, Merge stops with ErrStopped. An input cut short (its recorder killed) ends
// at its last whole block, counted in Stats.Truncated.
func Merge(w *capfile.Writer, inputs []Input, progress func(n int) bool) (Stats, error) {
	st := Stats{Damaged: make([]int, len(inputs)), Truncated: make([]bool, len(inputs))}
	h := make(recHeap, 0, len(inputs))
	next := func(i int) error {
		for {
			rec, err := inputs[i].Reader.Next()
			if err == io.EOF {
				return nil
			}
			if errors.Is(err, capfile.ErrTruncated) {
				st.Truncated[i] = true
				return nil
			}
			var fe *capfile.FormatError
			if errors.As(err, &fe) {
				st.Damaged[i]++
				continue
			}
			if err != nil {
				return fmt.Errorf("merge %s: %w", inputs[i].Node, err)
			}
			if !rec.Time.IsZero() {
				rec.Time = rec.Time.Add(inputs[i].Offset)
			}
			rec.Node = inputs[i].Node
			heap.Push(&h, item{rec, i})
			return nil
		}
	}
	for i := range inputs {
		if err := next(i); err != nil {
			return st, err
		}
	}
	for h.Len() > 0 {
		it := h[0]
		st.Records++
		it.rec.Seq = uint64(st.Records)
		if err := w.Write(it.rec); err != nil {
			return st, fmt.Errorf("merge: %w", err)
		}
		heap.Pop(&h)
		if err := next(it.input); err != nil {
			return st, err
		}
		if progress != nil && st.Records%4096 == 0 && !progress(st.Records) {
			return st, ErrStopped
		}
	}
	return st, writeStats(w, inputs)
}

// writeStats closes the merged capture with the recorders' statistics summed, when every
// node's capture has them: a capture without them was cut short, and so is the merge.
func writeStats(w *capfile.Writer, inputs []Input) error {
	var sum capfile.Stats
	for i, in := range inputs {
		s, ok := in.Reader.Stats()
		if !ok {
			return nil
		}
		start, end := s.Start.Add(in.Offset), s.End.Add(in.Offset)
		if i == 0 || start.Before(sum.Start) {
			sum.Start = start
		}
		if end.After(sum.End) {
			sum.End = end
		}
		sum.Received += s.Received
		sum.Dropped += s.Dropped
	}
	if err := w.WriteStats(sum); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	return nil
}

// item is the next record of one input.
type item struct {
	rec   *capfile.Record
	input int
}

// recHeap orders the inputs' next records by time, then by input.
type recHeap []item

func (h recHeap) Len() int { return len(h) }
func (h recHeap) Less(a, b int) bool {
	ta, tb := h[a].rec.Time, h[b].rec.Time
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return h[a].input < h[b].input
}
func (h recHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *recHeap) Push(x any)   { *h = append(*h, x.(item)) }
func (h *recHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// Package prefetch runs one stage of a pipeline (reading a capture, decoding
// it) in a goroutine of its own, ahead of the stage that consumes it, so that
// the stages share the machine's cores instead of taking turns on one.
package prefetch

import (
	"errors"
	"sync"
)

// A Stream calls a next function in its own goroutine and hands its results
// over, in order, in batches: one channel operation per batch keeps the
// hand-over cheap. A batch of 1 suits a live input, where a result must not
// wait for the next one to arrive.
//
// A Stream is not safe for concurrent use. Close stops it early.
type Stream[T any] struct {
	out  chan []result[T]
	done chan struct{}
	once sync.Once
	cur  []result[T]
	pos  int
	last error
}

type result[T any] struct {
	v   T
	err error
}

// Options say how a Stream batches and when it stops.
type Options[T any] struct {
	// Batch is the most results handed over at once; 0 means 1.
	Batch int
	// Bytes ends a batch early once the Size of its results reaches it,
	// so the memory held ahead stays bounded (about queued+2 batches of
	// Bytes, plus the largest result) whatever the results' sizes.
	Bytes int
	Size  func(T) int
	// GoesOn says whether the stream carries on after an error next
	// returned (a damaged record in a capture); nil: every error ends it.
	GoesOn func(error) bool
}

// queued is how many batches may wait for the consumer.
const queued = 4

// Start calls next ahead of the caller until it returns an error that ends
// the stream (see Options.GoesOn); that error is returned by every later
// Next.
func Start[T any](next func() (T, error), o Options[T]) *Stream[T] {
	s := &Stream[T]{out: make(chan []result[T], queued), done: make(chan struct{})}
	o.Batch = max(o.Batch, 1)
	go s.run(next, o)
	return s
}

func (s *Stream[T]) run(next func() (T, error), o Options[T]) {
	defer close(s.out)
	for {
		b := make([]result[T], 0, o.Batch)
		end := false
		bytes := 0
		for len(b) < o.Batch && !end && (o.Bytes == 0 || bytes < o.Bytes) {
			v, err := next()
			b = append(b, result[T]{v, err})
			end = err != nil && (o.GoesOn == nil || !o.GoesOn(err))
			if o.Size != nil && err == nil {
				bytes += o.Size(v)
			}
		}
		select {
		case s.out <- b:
		case <-s.done:
			return
		}
		if end {
			return
		}
	}
}

// Next returns the next result of the next function. After the final error
// it returns that error again; after Close, an error of its own.
func (s *Stream[T]) Next() (T, error) {
	var zero T
	if s.closed() {
		return zero, errClosed
	}
	for s.pos == len(s.cur) {
		var b []result[T]
		ok := false
		select {
		case <-s.done:
		case b, ok = <-s.out:
		}
		if !ok {
			if s.closed() || s.last == nil {
				// Stopped by Close: the last error handed out may have been
				// one the stream goes on after, not a final one.
				return zero, errClosed
			}
			return zero, s.last
		}
		s.cur, s.pos = b, 0
	}
	r := s.cur[s.pos]
	s.cur[s.pos] = result[T]{}
	s.pos++
	s.last = r.err
	return r.v, r.err
}

// Ready reports whether Next has a result at hand, without waiting: a
// consumer of a live stream flushes its output before it waits.
func (s *Stream[T]) Ready() bool { return s.pos < len(s.cur) || len(s.out) > 0 }

func (s *Stream[T]) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Close stops the stream. It does not wait: the goroutine may be blocked in
// the next function (reading a pipe), and it ends as soon as that returns.
// Next returns an error after Close.
func (s *Stream[T]) Close() {
	s.once.Do(func() { close(s.done) })
}

var errClosed = errors.New("prefetch: stream closed")

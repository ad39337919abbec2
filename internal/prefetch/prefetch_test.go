package prefetch

import (
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"
)

var errDamaged = errors.New("damaged")

// counter yields 1..n, a damaged item every 7th call, then io.EOF.
func counter(n int) func() (int, error) {
	i := 0
	return func() (int, error) {
		i++
		switch {
		case i > n:
			return 0, io.EOF
		case i%7 == 0:
			return 0, errDamaged
		}
		return i, nil
	}
}

func TestOrderAndFinalError(t *testing.T) {
	for _, batch := range []int{0, 1, 3, 64} {
		s := Start(counter(100), Options[int]{Batch: batch, GoesOn: func(err error) bool { return errors.Is(err, errDamaged) }})
		want := 1
		damaged := 0
		for {
			v, err := s.Next()
			if err == io.EOF {
				break
			}
			if errors.Is(err, errDamaged) {
				if want%7 != 0 {
					t.Fatalf("batch %d: damaged item at %d", batch, want)
				}
				damaged++
				want++
				continue
			}
			if err != nil || v != want {
				t.Fatalf("batch %d: got %d, %v; want %d", batch, v, err, want)
			}
			want++
		}
		if want != 101 || damaged != 14 {
			t.Fatalf("batch %d: ended at %d with %d damaged", batch, want, damaged)
		}
		for range 3 {
			if _, err := s.Next(); err != io.EOF {
				t.Fatalf("batch %d: after the end: %v", batch, err)
			}
		}
		s.Close()
	}
}

func TestStopsAtFirstErrorWithoutGoesOn(t *testing.T) {
	s := Start(counter(100), Options[int]{Batch: 4})
	for i := 1; i <= 6; i++ {
		if v, err := s.Next(); err != nil || v != i {
			t.Fatalf("item %d: %d, %v", i, v, err)
		}
	}
	if _, err := s.Next(); !errors.Is(err, errDamaged) {
		t.Fatalf("want the damaged error, got %v", err)
	}
	if _, err := s.Next(); !errors.Is(err, errDamaged) {
		t.Fatalf("want the damaged error again, got %v", err)
	}
}

// A stage blocked in its next function (a pipe with no writer) must not
// block Close, nor a Next after it.
func TestCloseWhileBlocked(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	s := Start(func() (int, error) { <-block; return 0, nil }, Options[int]{})
	done := make(chan error)
	go func() {
		s.Close()
		_, err := s.Next()
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Next after Close returned no error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close or Next hung on a blocked stage")
	}
}

// Large results end a batch early: the memory held ahead stays bounded by
// Bytes, not by Batch times the largest result.
func TestBytesBoundHeldAhead(t *testing.T) {
	var produced atomic.Int64
	next := func() (int, error) {
		produced.Add(1)
		return 1000, nil // each result "weighs" 1000 bytes
	}
	s := Start(next, Options[int]{Batch: 64, Bytes: 4000, Size: func(v int) int { return v }})
	defer s.Close()
	if _, err := s.Next(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // let the producer fill what it may
	// Batches of 4 results: queued batches waiting, one being built, one taken.
	if n, limit := produced.Load(), int64(queued+2)*4; n > limit {
		t.Fatalf("%d results produced ahead, want at most %d", n, limit)
	}
}

// After Close, a stream whose last result was an error it goes on after
// must not repeat that error as if it were final (a decoder would take it
// for one more damaged record, again and again).
func TestNoRepeatedErrorAfterClose(t *testing.T) {
	s := Start(counter(100), Options[int]{Batch: 7, GoesOn: func(err error) bool { return errors.Is(err, errDamaged) }})
	for i := 1; i <= 7; i++ {
		s.Next()
	}
	s.Close()
	for range 3 {
		if _, err := s.Next(); err != errClosed {
			t.Fatalf("after Close: %v, want the closed error", err)
		}
	}
}

// Ready tells a consumer whether Next would wait.
func TestReady(t *testing.T) {
	gate := make(chan int)
	s := Start(func() (int, error) {
		v, ok := <-gate
		if !ok {
			return 0, io.EOF
		}
		return v, nil
	}, Options[int]{})
	defer s.Close()
	if s.Ready() {
		t.Fatal("ready before anything was produced")
	}
	gate <- 1
	deadline := time.Now().Add(5 * time.Second)
	for !s.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("not ready after a result was produced")
		}
		time.Sleep(time.Millisecond)
	}
	if v, err := s.Next(); v != 1 || err != nil {
		t.Fatalf("got %d, %v", v, err)
	}
	if s.Ready() {
		t.Fatal("ready with nothing left")
	}
	close(gate)
}

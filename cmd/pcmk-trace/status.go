package main

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// status is the one line of progress record, decode and replay keep on a
// terminal: redrawn in place at most once per interval, erased before other
// output and at the end. Where its writer is not a terminal it writes nothing.
// It is safe for concurrent use.
type status struct {
	w     io.Writer
	on    bool
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	last  time.Time
	shown bool
}

// newStatus returns the status line of w, drawn at most once per every.
func newStatus(w io.Writer, every time.Duration) *status {
	return &status{w: w, on: isTerminal(w), every: every, now: time.Now}
}

// enabled reports whether the line is drawn at all.
func (s *status) enabled() bool { return s.on }

// set redraws the line with what line returns, unless it was drawn less than
// the interval ago; force draws it anyway (a last count). line is only called
// when the line is drawn.
func (s *status) set(force bool, line func() string) {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if !force && now.Sub(s.last) < s.every {
		return
	}
	s.last = now
	fmt.Fprintf(s.w, "\r\033[K%s", line())
	s.shown = true
}

// clear erases the line, when it is drawn.
func (s *status) clear() {
	if !s.on {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.shown {
		fmt.Fprint(s.w, "\r\033[K")
		s.shown = false
	}
}

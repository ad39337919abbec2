package main

import (
	"bytes"
	"testing"
	"time"
)

// fakeTerminal returns a status line on a buffer taken for a terminal, and a clock to move.
func fakeTerminal(every time.Duration) (*status, *bytes.Buffer, *time.Time) {
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	s := newStatus(&buf, every)
	s.on = true
	s.now = func() time.Time { return now }
	return s, &buf, &now
}

func TestStatusRedraws(t *testing.T) {
	s, buf, now := fakeTerminal(time.Second)
	calls := 0
	line := func(text string) func() string { return func() string { calls++; return text } }
	s.set(false, line("one"))
	s.set(false, line("too soon"))
	*now = now.Add(time.Second)
	s.set(false, line("two"))
	s.set(true, line("forced"))
	s.clear()
	s.clear()
	const want = "\r\033[Kone\r\033[Ktwo\r\033[Kforced\r\033[K"
	if buf.String() != want {
		t.Errorf("terminal got %q, want %q", buf.String(), want)
	}
	if calls != 3 {
		t.Errorf("the line was made %d times, want 3 (not when skipped)", calls)
	}
}

// Off a terminal the line is never drawn nor erased.
func TestStatusOffTerminal(t *testing.T) {
	var buf bytes.Buffer
	s := newStatus(&buf, 0)
	if s.enabled() {
		t.Fatal("a buffer was taken for a terminal")
	}
	s.set(true, func() string { t.Error("line made off a terminal"); return "x" })
	s.clear()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

// Nothing is erased that was not drawn.
func TestStatusClearUnshown(t *testing.T) {
	s, buf, _ := fakeTerminal(time.Second)
	s.clear()
	if buf.Len() != 0 {
		t.Errorf("wrote %q", buf.String())
	}
}

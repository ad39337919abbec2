package main

import (
	"runtime"
	"testing"
)

// record takes one processor in its own process only, and not when
// GOMAXPROCS is set or --otlp exports beside the reader.
func TestOneProcessor(t *testing.T) {
	prev := runtime.GOMAXPROCS(0)
	if prev < 2 {
		t.Skip("one CPU: nothing to tell apart")
	}
	defer runtime.GOMAXPROCS(prev)
	t.Setenv("GOMAXPROCS", "")
	check := func(own bool, o recordOptions, want int) {
		t.Helper()
		runtime.GOMAXPROCS(prev)
		ownProcess = own
		defer func() { ownProcess = false }()
		oneProcessor(&o)
		if got := runtime.GOMAXPROCS(0); got != want {
			t.Errorf("own process %v, otlp %q: GOMAXPROCS %d, want %d", own, o.otlp, got, want)
		}
	}
	check(false, recordOptions{}, prev)
	check(true, recordOptions{otlp: "http://localhost:4318"}, prev)
	check(true, recordOptions{}, 1)
	t.Setenv("GOMAXPROCS", "2")
	check(true, recordOptions{}, prev)
}

//go:build linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcmk-trace/pcmk-trace/capture"
)

// setTimerSlack reaches every thread of the process, and relaxTimers only a
// process of its own.
func TestSetTimerSlack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting another thread's timer slack needs CAP_SYS_NICE")
	}
	slacks := func() map[string]string {
		got := map[string]string{}
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			b, err := os.ReadFile("/proc/" + task.Name() + "/timerslack_ns")
			if errors.Is(err, fs.ErrNotExist) {
				continue // the thread ended
			}
			if err != nil {
				t.Fatal(err)
			}
			got[task.Name()] = strings.TrimSpace(string(b))
		}
		return got
	}
	was, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer setTimerSlack(time.Duration(was))
	before := slacks()
	relaxTimers(capture.DefaultLatency) // ownProcess is false in tests
	for tid, ns := range slacks() {
		if b, ok := before[tid]; ok && ns != b {
			t.Errorf("thread %s: slack %s ns, %s before: set in a process that is not pcmk-trace's own", tid, ns, b)
		}
	}
	set, threads := setTimerSlack(1234567 * time.Nanosecond)
	got := slacks()
	if set != threads || threads < len(got) {
		t.Errorf("set %d threads of %d; %d now", set, threads, len(got))
	}
	for tid, ns := range got {
		if ns != "1234567" {
			t.Errorf("thread %s: slack %s ns, want 1234567", tid, ns)
		}
	}
	if s, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err != nil || s != 1234567 {
		t.Errorf("this thread: slack %d (%v), want 1234567", s, err)
	}

	// In a process of its own: 2% of the latency; none below the default.
	ownProcess = true
	defer func() { ownProcess = false }()
	for _, c := range []struct {
		latency time.Duration
		want    string
	}{{capture.DefaultLatency, "4000000"}, {40 * time.Millisecond, "800000"}, {time.Millisecond, "1234567"}} {
		setTimerSlack(1234567 * time.Nanosecond)
		relaxTimers(c.latency)
		for tid, ns := range slacks() {
			if ns != c.want {
				t.Errorf("latency %v: thread %s: slack %s ns, want %s", c.latency, tid, ns, c.want)
			}
		}
	}
}

//go:build linux

package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// setTimerSlack reaches every thread of the process, and relaxTimers only a
// process of its own.
func TestSetTimerSlack(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("setting another thread's timer slack needs CAP_SYS_NICE")
	}
	defer setTimerSlack(50 * time.Microsecond) // the kernel's default
	slacks := func() map[string]string {
		got := map[string]string{}
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			b, err := os.ReadFile("/proc/" + task.Name() + "/timerslack_ns")
			if err != nil {
				t.Fatal(err)
			}
			got[task.Name()] = strings.TrimSpace(string(b))
		}
		return got
	}
	relaxTimers() // ownProcess is false in tests
	for tid, ns := range slacks() {
		if ns == "4000000" {
			t.Errorf("thread %s: slack %s ns set in a process that is not pcmk-trace's own", tid, ns)
		}
	}
	n := setTimerSlack(1234567 * time.Nanosecond)
	got := slacks()
	if n != len(got) {
		t.Errorf("set %d threads of %d", n, len(got))
	}
	for tid, ns := range got {
		if ns != "1234567" {
			t.Errorf("thread %s: slack %s ns, want 1234567", tid, ns)
		}
	}
	if s, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0); err != nil || s != 1234567 {
		t.Errorf("this thread: slack %d (%v), want 1234567", s, err)
	}
}

//go:build linux

package main

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// relaxTimers gives the threads of a live watcher (record, top) a timer
// slack of 2% of latency, the longest a record waits in the ring buffer:
// 4 ms at the default 200 ms, instead of the kernel's 50 us. The Go
// runtime's monitor thread sleeps 20 us at a time, fifty times over, after
// every system call that finds it asleep, and on a virtual machine each of
// those wake-ups cost about 9 us of CPU: at 20,000 messages a second the
// monitor used 170-250 ns of CPU per message, a sixth of record's, and 30-40
// with the slack. The watchers' own timers (the ring's deadline, flushes,
// housekeeping) run at that latency or slower. A watcher in tests shares
// its process with others, which are left alone.
func relaxTimers(latency time.Duration) {
	if slack := latency / 50; ownProcess && slack > defaultSlack {
		setTimerSlack(slack)
	}
}

// defaultSlack is the kernel's timer slack for a normal thread.
const defaultSlack = 50 * time.Microsecond

// setTimerSlack sets the timer slack of every thread of the process; threads
// created later take their creator's. It returns how many threads took it:
// the others need CAP_SYS_NICE, which a recorder given only CAP_BPF and
// CAP_PERFMON lacks, and keep the default.
func setTimerSlack(slack time.Duration) int {
	ns := strconv.FormatInt(slack.Nanoseconds(), 10)
	set := 0
	if unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack.Nanoseconds()), 0, 0, 0) == nil {
		set++
	}
	self := strconv.Itoa(unix.Gettid())
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return set
	}
	for _, task := range tasks {
		if task.Name() == self {
			continue
		}
		// /proc/TID, not /proc/self/task/TID: only the former has the file.
		if os.WriteFile("/proc/"+task.Name()+"/timerslack_ns", []byte(ns), 0) == nil {
			set++
		}
	}
	return set
}

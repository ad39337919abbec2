//go:build linux

package main

import (
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// watcherSlack is how late the kernel may wake record's and top's threads
// from a timer: 2% of the 200 ms that their reader's deadline, flushes and
// housekeeping run at, and a fifth of the Go runtime's 10 ms preemption
// slice.
const watcherSlack = 4 * time.Millisecond

// relaxTimers gives the threads of a live watcher (record, top) a timer
// slack of watcherSlack instead of the default 50 us. The Go runtime's
// monitor thread sleeps 20 us at a time, fifty times over, after every
// system call that finds it asleep, and on a virtual machine each of those
// wake-ups cost about 9 us of CPU: at 20,000 messages a second the monitor
// used 190-210 ns of CPU per message, a sixth of record's. With the slack it
// used 35-40. Nothing the watchers time needs microseconds; a live watcher
// in tests shares its process with others and is left alone.
func relaxTimers() {
	if ownProcess {
		setTimerSlack(watcherSlack)
	}
}

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

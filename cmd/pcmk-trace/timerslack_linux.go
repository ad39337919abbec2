//go:build linux

package main

import (
	"errors"
	"io/fs"
	"os"
	"strconv"
	"time"
)

// relaxTimers gives the threads of a live watcher (record, top) a timer
// slack of 2% of latency, the longest a record waits in the ring buffer:
// 4 ms at the default 200 ms, instead of the kernel's 50 us. The Go
// runtime's monitor thread sleeps 20 us at a time, fifty times over, after
// every system call that finds it asleep, and on a virtual machine each of
// those wake-ups cost about 9 us of CPU: at 20,000 messages a second the
// monitor used 170-250 ns of CPU per message, a sixth of record's, and 30-40
// with the slack. The ring's deadline, the flushes and the housekeeping run
// at that latency or slower; the reader's short waits for a record still
// being written, and the runtime's hand-offs, may end that much later, which
// the ring absorbs. A watcher in tests shares its process with others,
// which are left alone.
func relaxTimers(latency time.Duration) {
	if slack := latency / 50; ownProcess && slack > defaultSlack {
		setTimerSlack(slack)
	}
}

// defaultSlack is the kernel's timer slack for a normal thread.
const defaultSlack = 50 * time.Microsecond

// setTimerSlack sets the timer slack of every thread of the process; threads
// created later take their creator's. It returns how many threads took it
// and how many there were: setting another thread's slack needs
// CAP_SYS_NICE, which a recorder given only CAP_BPF and CAP_PERFMON lacks
// (its other threads keep the default).
func setTimerSlack(slack time.Duration) (set, threads int) {
	ns := []byte(strconv.FormatInt(slack.Nanoseconds(), 10))
	seen := map[string]bool{}
	gone := 0
	// A thread may start during a pass, from one not set yet: passes go on
	// until one finds no thread it has not seen.
	for range 10 {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			break
		}
		fresh := false
		for _, task := range tasks {
			if seen[task.Name()] {
				continue
			}
			seen[task.Name()], fresh = true, true
			// /proc/TID, not /proc/self/task/TID: only the former has the file.
			switch err := os.WriteFile("/proc/"+task.Name()+"/timerslack_ns", ns, 0); {
			case err == nil:
				set++
			case errors.Is(err, fs.ErrNotExist):
				gone++ // it ended
			}
		}
		if !fresh {
			break
		}
	}
	return set, len(seen) - gone
}

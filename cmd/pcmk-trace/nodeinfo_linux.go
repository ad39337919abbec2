package main

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// utsHostname returns the host name of pid's UTS namespace. A thread of its own joins the
// namespace and never leaves it: the thread ends with its goroutine, locked.
func utsHostname(pid int) (string, error) {
	type result struct {
		name string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // not unlocked: the thread is discarded with its namespace
		fd, err := unix.Open(fmt.Sprintf("/proc/%d/ns/uts", pid), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			ch <- result{err: fmt.Errorf("open the UTS namespace of pid %d: %w", pid, err)}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWUTS); err != nil {
			ch <- result{err: fmt.Errorf("enter the UTS namespace of pid %d: %w", pid, err)}
			return
		}
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			ch <- result{err: fmt.Errorf("uname in the UTS namespace of pid %d: %w", pid, err)}
			return
		}
		ch <- result{name: unix.ByteSliceToString(u.Nodename[:])}
	}()
	r := <-ch
	return r.name, r.err
}

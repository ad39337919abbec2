//go:build linux && amd64

package capture

import (
	"fmt"
	"os"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// attachSyscalls attaches the socket transport's programs. Tracepoints are
// found through tracefs; when it is not mounted, they are attached from a
// thread that mounts tracefs in a mount namespace of its own, so the host's
// mounts are left alone (and other tools see no tracefs come and go).
func (t *Tracer) attachSyscalls(rx bool) error {
	if tracefsMounted() {
		return t.attachSyscallsHere(rx)
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread exits with its namespace when this
		// goroutine ends, and no other goroutine runs on it.
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("unshare mount namespace to mount tracefs: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("make mounts private: %w", err)
			}
			const dir = "/sys/kernel/tracing"
			if err := unix.Mount("nodev", dir, "tracefs", 0, ""); err != nil {
				return fmt.Errorf("mount tracefs on %s (needed for the socket transport's syscall tracepoints): %w", dir, err)
			}
			return t.attachSyscallsHere(rx)
		}()
	}()
	return <-errc
}

// tracefsMounted reports whether this thread sees tracefs (or debugfs with
// its tracing directory) mounted.
func tracefsMounted() bool {
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		// id parent dev root mount-point ... - fstype source options
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 || f[3] != "/" {
			continue
		}
		if g[0] == "tracefs" {
			return true
		}
		if g[0] == "debugfs" {
			if _, err := os.Stat(f[4] + "/tracing/events"); err == nil {
				return true
			}
		}
	}
	return false
}

package qbipc

import (
	"fmt"
	"runtime"

	"golang.org/x/sys/unix"
)

// socketIn creates a non-blocking AF_UNIX socket of type typ in the network namespace
// nsPath (for example /proc/PID/ns/net), or in the caller's when nsPath is empty.
//
// Abstract socket names live in network namespaces, and a socket belongs to the
// namespace it was created in: bind and connect later resolve names there, whichever
// thread calls them. So only socket(2) runs inside the namespace, on a locked OS thread
// that setns(2) moves there and back. Mount namespaces cannot be entered this way by a
// multi-threaded process; ring files are reached through Options.Root instead.
func socketIn(nsPath string, typ int) (int, error) {
	typ |= unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	if nsPath == "" {
		return unix.Socket(unix.AF_UNIX, typ, 0)
	}
	type result struct {
		fd  int
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		fd, restored, err := socketInLocked(nsPath, typ)
		if restored {
			runtime.UnlockOSThread()
		}
		// Otherwise the thread stays locked and exits with this goroutine, so no other
		// goroutine ever runs in the wrong namespace.
		ch <- result{fd, err}
	}()
	r := <-ch
	return r.fd, r.err
}

func socketInLocked(nsPath string, typ int) (fd int, restored bool, err error) {
	self, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("open own network namespace: %w", err)
	}
	defer unix.Close(self)
	target, err := unix.Open(nsPath, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, true, fmt.Errorf("open network namespace %s: %w", nsPath, err)
	}
	defer unix.Close(target)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return -1, true, fmt.Errorf("enter network namespace %s: %w", nsPath, err)
	}
	fd, err = unix.Socket(unix.AF_UNIX, typ, 0)
	if err := unix.Setns(self, unix.CLONE_NEWNET); err != nil {
		if fd >= 0 {
			unix.Close(fd)
		}
		return -1, false, fmt.Errorf("leave network namespace %s: %w", nsPath, err)
	}
	return fd, true, err
}

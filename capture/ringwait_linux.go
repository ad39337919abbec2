//go:build linux && amd64

package capture

import (
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// ringWait parks the reader in the Go runtime's network poller until the
// ring buffer signals records or a deadline passes. The ring buffer
// reader's own wait is an epoll_wait system call that blocks its thread
// for up to Config.Latency: the runtime's monitor thread then takes the
// processor back after 10 ms and, woken by that, polls every 20 us for a
// while: at 20 polls a second it cost a fifth of the recorder's CPU. A
// goroutine parked in the poller leaves every processor idle, and the
// monitor asleep.
type ringWait struct {
	f    *os.File
	rc   syscall.RawConn
	once sync.Once
}

// newRingWait returns a waiter on the ring buffer map m (a copy of its
// descriptor), or nil when the runtime cannot poll it.
func newRingWait(m *ebpf.Map) *ringWait {
	fd, err := unix.FcntlInt(uintptr(m.FD()), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil
	}
	f := os.NewFile(uintptr(fd), "ringbuf")
	rc, err := f.SyscallConn()
	if err != nil || f.SetReadDeadline(time.Time{}) != nil {
		f.Close() // not in the poller: Open falls back to sleeping
		return nil
	}
	return &ringWait{f: f, rc: rc}
}

// wait returns when the ring buffer signalled records (or did since the
// last wait), the deadline passed, or stop was called during the wait.
func (w *ringWait) wait(deadline time.Time) {
	if w.f.SetReadDeadline(deadline) != nil {
		return
	}
	polled := false
	err := w.rc.Read(func(uintptr) bool {
		done := polled
		polled = true
		return done
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		time.Sleep(time.Until(deadline)) // closed: no busy loop
	}
}

// stop ends a wait in progress (one that starts after it waits: Read
// checks its context before every wait).
func (w *ringWait) stop() { w.f.SetReadDeadline(time.Unix(1, 0)) }

func (w *ringWait) close() { w.once.Do(func() { w.f.Close() }) }

// sleepWait is the wait where the runtime cannot poll the ring buffer:
// until the deadline, or a stop.
type sleepWait struct{ stopped chan struct{} }

func newSleepWait() *sleepWait { return &sleepWait{stopped: make(chan struct{}, 1)} }

func (w *sleepWait) wait(deadline time.Time) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-w.stopped:
	}
}

func (w *sleepWait) stop() {
	select {
	case w.stopped <- struct{}{}:
	default:
	}
}

func (w *sleepWait) close() {}

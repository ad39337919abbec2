package qbipc

import (
	"math"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A sem is a process-shared glibc sem_t living in a mapped ring header. On x86_64 and the
// other targets where glibc has 64-bit atomics (glibc >= 2.21), a sem_t starts with one
// 64-bit word: the value in the low half and the number of blocked waiters in the high
// half; the 32-bit word after it is glibc's "private" field, 0x80 (FUTEX_SHARED in glibc's
// inverted encoding) for a semaphore created with pshared = 1. Posters only call futex(2)
// when the waiter count is non-zero, so a waiter must register itself first.
type sem struct {
	data    *uint64 // value (low 32 bits) and waiters (high 32 bits)
	private *uint32
	yielded *atomic.Int64 // when a waiter last yielded to the scheduler (see wait)
}

const (
	semWaiterOne = 1 << 32
	semValueMax  = math.MaxInt32

	futexWait        = 0
	futexWake        = 1
	futexPrivateFlag = 128

	// yieldEvery is how often a goroutine that keeps blocking in wait passes through the
	// scheduler. It must stay below the runtime's 10 ms time slice (see wait).
	yieldEvery = 5 * time.Millisecond
)

// epoch is the origin of wait's monotonic clock: time.Since(epoch) reads one clock,
// time.Now two.
var epoch = time.Now()

func newSem(p unsafe.Pointer) sem {
	return sem{data: (*uint64)(p), private: (*uint32)(unsafe.Add(p, 8)), yielded: new(atomic.Int64)}
}

// value is the number of posted, not yet consumed units (sem_getvalue).
func (s sem) value() uint32 { return uint32(atomic.LoadUint64(s.data)) }

// post is sem_post: increment the value, and wake one waiter if any is registered.
func (s sem) post() error {
	for {
		d := atomic.LoadUint64(s.data)
		if uint32(d) >= semValueMax {
			return unix.EOVERFLOW
		}
		if atomic.CompareAndSwapUint64(s.data, d, d+1) {
			if d>>32 > 0 {
				s.wake(1)
			}
			return nil
		}
	}
}

// tryWait is sem_trywait: take one unit if the value is positive.
func (s sem) tryWait() bool {
	for {
		d := atomic.LoadUint64(s.data)
		if uint32(d) == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.data, d, d-1) {
			return true
		}
	}
}

// wait is sem_timedwait with a relative timeout: it reports whether it took a unit.
// Like glibc it registers as a waiter while it sleeps, and takes the unit and
// unregisters in one atomic step, so a concurrent post is never lost. A spurious
// wake-up (see wakeAll) returns false early; callers loop.
//
// The futex wait is a blocking system call the runtime knows of (syscall.Syscall), as
// sem_timedwait is for a C thread, but a goroutine that only ever blocks there never
// passes through the scheduler. Once it has gone 10 ms without doing so, the runtime's
// monitor thread treats it as a goroutine running too long: it asks for a preemption and,
// because the goroutine sits in a system call, takes its P away and wakes another thread,
// which finds nothing to do, from then on at its every look (one cib_ro query in three),
// and keeps polling every 20 µs. On a small machine those wake-ups compete with the server
// for the CPU. So a waiter yields (runtime.Gosched) before blocking when it has not done
// so for yieldEvery: a few hundred cheap yields a second instead of thousands of
// hand-offs.
func (s sem) wait(timeout time.Duration) bool {
	if s.tryWait() {
		return true
	}
	now := time.Since(epoch)
	s.yield(now)
	d := atomic.AddUint64(s.data, semWaiterOne)
	deadline := now + timeout
	for first := true; ; first = false {
		if uint32(d) == 0 {
			if !first {
				now = time.Since(epoch)
			}
			left := deadline - now
			if left <= 0 {
				atomic.AddUint64(s.data, ^uint64(semWaiterOne-1))
				return false
			}
			ts := unix.NsecToTimespec(int64(left))
			_, _, errno := unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(s.data)),
				uintptr(s.futexOp(futexWait)), 0, uintptr(unsafe.Pointer(&ts)), 0, 0)
			if errno == unix.ETIMEDOUT || errno == unix.EINTR || (errno == 0 && s.value() == 0) {
				// Timed out, interrupted, or woken by wakeAll: give the caller a chance to
				// look at its context and the connection.
				if !s.tryWaitRegistered() {
					atomic.AddUint64(s.data, ^uint64(semWaiterOne-1))
					return false
				}
				return true
			}
			d = atomic.LoadUint64(s.data)
			continue
		}
		if atomic.CompareAndSwapUint64(s.data, d, d-1-semWaiterOne) {
			return true
		}
		d = atomic.LoadUint64(s.data)
	}
}

// yield calls runtime.Gosched if no waiter of s did for yieldEvery.
func (s sem) yield(now time.Duration) {
	if s.yielded == nil {
		return
	}
	t := int64(now)
	if last := s.yielded.Load(); t-last >= int64(yieldEvery) && s.yielded.CompareAndSwap(last, t) {
		runtime.Gosched()
	}
}

// tryWaitRegistered takes a unit and drops this waiter's registration at once.
func (s sem) tryWaitRegistered() bool {
	for {
		d := atomic.LoadUint64(s.data)
		if uint32(d) == 0 {
			return false
		}
		if atomic.CompareAndSwapUint64(s.data, d, d-1-semWaiterOne) {
			return true
		}
	}
}

// wakeAll wakes every thread blocked on the semaphore without posting it; Close uses it
// to make its own blocked receivers notice that the client is closing.
func (s sem) wakeAll() { s.wake(math.MaxInt32) }

func (s sem) wake(n int) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(s.data)), uintptr(s.futexOp(futexWake)), uintptr(n), 0, 0, 0)
}

// futexOp adds FUTEX_PRIVATE_FLAG the way glibc does: its private field holds 0x80 for a
// shared semaphore and 0 for a private one, and glibc XORs it with the flag.
func (s sem) futexOp(op int) int {
	return op | ((futexPrivateFlag ^ int(atomic.LoadUint32(s.private))) & futexPrivateFlag)
}

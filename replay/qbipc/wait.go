package qbipc

import (
	"context"
	"errors"
	"os"
	"time"
)

// waitSlice bounds every blocking wait, so a receiver notices a dead server (which posts
// no semaphore and sends no datagram) and a closed client within this time.
const waitSlice = 100 * time.Millisecond

// aLongTimeAgo is a deadline that has passed, to unblock I/O at once.
var aLongTimeAgo = time.Unix(1, 0)

// watchContext applies ctx's deadline with set and, when ctx can be cancelled, sets a
// past deadline on cancellation so blocked I/O returns. Call the returned function when
// the I/O is over; it waits for a cancellation already in flight, so the next operation's
// deadline is never overwritten.
func watchContext(ctx context.Context, set func(time.Time) error) func() {
	dl := deadline{set: set, on: true}
	return dl.watch(ctx)
}

// A deadline applies contexts to one direction of a connection, with set being its
// SetReadDeadline, SetWriteDeadline or SetDeadline. It remembers whether a deadline may be
// set, so that an operation under a context without deadline or cancellation after
// another such one (a request loop under context.Background) costs no call and no
// allocation. Its operations must not run concurrently.
type deadline struct {
	set func(time.Time) error
	on  bool // a deadline may be set; true until the first watch clears it
}

func newDeadline(set func(time.Time) error) *deadline { return &deadline{set: set, on: true} }

// watch is watchContext with dl's set.
func (dl *deadline) watch(ctx context.Context) func() {
	d, ok := ctx.Deadline()
	if ok || dl.on {
		dl.set(d)
		dl.on = ok
	}
	if ctx.Done() == nil {
		return noop
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		dl.set(aLongTimeAgo)
		dl.on = true
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

func noop() {}

// ctxErr reports a deadline error from I/O governed by ctx as ctx's own error.
func ctxErr(ctx context.Context, err error) error {
	if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	return context.DeadlineExceeded
}

// slice returns how long the next bounded wait may last under ctx.
func slice(ctx context.Context) time.Duration {
	if d, ok := ctx.Deadline(); ok {
		if left := time.Until(d); left < waitSlice {
			return max(left, 0)
		}
	}
	return waitSlice
}

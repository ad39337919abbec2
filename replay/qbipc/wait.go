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
	d, _ := ctx.Deadline()
	set(d)
	if ctx.Done() == nil {
		return func() {}
	}
	fired := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		set(aLongTimeAgo)
		close(fired)
	})
	return func() {
		if !stop() {
			<-fired
		}
	}
}

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

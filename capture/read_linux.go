//go:build linux && amd64

package capture

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// counterInterval is how often Read turns kernel loss counters into records.
const counterInterval = 200 * time.Millisecond

// Read returns the next record: a message, a connection event, or a loss
// record when the kernel counted messages it could not record. It blocks
// until one is available. Once ctx is done, Read returns what is still in
// the ring buffer and then io.EOF. After Close it returns an error wrapping
// os.ErrClosed.
func (t *Tracer) Read(ctx context.Context) (*capfile.Record, error) {
	if ctx != t.ctx {
		// Wake the reader as soon as ctx is done rather than at the next poll.
		if t.stopNotify != nil {
			t.stopNotify()
		}
		t.ctx = ctx
		t.stopNotify = context.AfterFunc(ctx, t.waiter.stop)
	}
	for {
		if len(t.queue) > 0 {
			rec := t.queue[0]
			t.queue[0] = nil
			t.queue = t.queue[1:]
			return rec, nil
		}
		if t.done {
			return nil, io.EOF
		}
		// The clock and ctx are read once per 64 pieces while they flow,
		// and after each wait: at tens of thousands of messages a second,
		// reading them per message was a noticeable part of the reader's
		// time. (ctx is looked at again before every wait, so draining
		// starts at most 63 pieces late, and it reads the ring out anyway.)
		if t.pieces&63 == 0 || t.waited {
			t.waited = false
			t.noticeStop(ctx)
			if time.Since(t.lastPoll) >= counterInterval {
				t.housekeeping(false)
				continue
			}
		}
		var rec *capfile.Record
		got := false
		open, busy := t.ring.read(func(p []byte) bool {
			got = true
			t.pieces++
			rec = t.piece(p)
			return rec == nil && t.pieces&63 != 0
		})
		switch {
		case !open:
			t.waiter.close()
			return nil, fmt.Errorf("capture: read: %w", os.ErrClosed)
		case rec != nil:
			return rec, nil
		case got:
			continue
		case busy:
			// A program is writing the next piece: it is there in a moment.
			time.Sleep(busyWait)
		case t.draining:
			if len(t.partial) > 0 && !t.lastDrain {
				// A program may still be emitting pieces: once more.
				t.lastDrain = true
				time.Sleep(20 * time.Millisecond)
				continue
			}
			t.housekeeping(true)
			t.done = true
			t.waiter.close()
		default:
			// The ring is empty (it may have been for a while): wait for
			// the next pieces until a fresh deadline, unless ctx ended
			// since it was last looked at (the wait would override stop).
			if t.noticeStop(ctx) {
				continue
			}
			t.waiter.wait(time.Now().Add(t.latency))
			t.waited = true
		}
	}
}

// noticeStop starts draining once ctx is done, and reports whether it
// started now.
func (t *Tracer) noticeStop(ctx context.Context) bool {
	if t.draining || ctx.Err() == nil {
		return false
	}
	t.draining = true
	return true
}

// busyWait is how long Read waits for a piece a program is still writing.
const busyWait = 20 * time.Microsecond

// housekeeping queues loss records for new kernel loss counts and drops
// messages whose pieces stopped coming. final drops every partial message.
func (t *Tracer) housekeeping(final bool) {
	now := time.Now()
	t.lastPoll = now
	// Follow clock adjustments (NTP) over long recordings.
	t.wallOff = wallClockOffset()
	t.expire(now, final)
	if t.watchKick != nil && !final {
		// The watcher looks for new libqb files while the reader is awake
		// anyway: a timer of its own woke the whole process 4 times a second.
		select {
		case t.watchKick <- struct{}{}:
		default:
		}
	}
	c, err := t.readCounters()
	if err != nil {
		return
	}
	t.queue = t.lossRecords(t.queue, now, t.lossTotals(c))
}

// wallClockOffset returns CLOCK_REALTIME - CLOCK_MONOTONIC (bpf_ktime_get_ns).
func wallClockOffset() int64 {
	var r1, m, r2 unix.Timespec
	best := int64(-1)
	var off int64
	for i := 0; i < 5; i++ {
		unix.ClockGettime(unix.CLOCK_REALTIME, &r1)
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &m)
		unix.ClockGettime(unix.CLOCK_REALTIME, &r2)
		if d := r2.Nano() - r1.Nano(); best < 0 || d < best {
			best = d
			off = r1.Nano() + d/2 - m.Nano()
		}
	}
	return off
}

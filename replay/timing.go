package replay

import (
	"context"
	"time"
)

// A clock paces a replay: a request recorded at offset d after the first one is due at
// start + d/speed, or at once with asap.
type clock struct {
	start time.Time
	speed float64
	asap  bool
}

// due returns when a request at recorded offset d should go out.
func (c clock) due(d time.Duration) time.Time {
	if c.asap {
		return c.start
	}
	return c.start.Add(time.Duration(float64(d) / c.speed))
}

// wait sleeps until the request at offset d is due or ctx ends. A replay running late
// does not wait: it catches up without skipping.
func (c clock) wait(ctx context.Context, d time.Duration) error {
	left := time.Until(c.due(d))
	if left <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(left)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// followsReplies returns the in-flight attempts whose recorded replies all came before
// the request at time at: in the recording the client had them when it sent the
// request, so the replay waits for them too (on any connection: another tool may have
// waited for a write to finish). This keeps causality whatever the speed.
func followsReplies(inflight []*attempt, at time.Time) []*attempt {
	var out []*attempt
	for _, a := range inflight {
		if a.ex.lastReply().Before(at) {
			out = append(out, a)
		}
	}
	return out
}

package qbipc

import (
	"context"
	"testing"
	"time"
)

// A deadline calls its setter only when the deadline changes, and a context without one
// always runs with none, whatever the operation before it left.
func TestDeadline(t *testing.T) {
	var got []time.Time
	dl := newDeadline(func(d time.Time) error { got = append(got, d); return nil })
	bg := context.Background()
	ctx, cancel := context.WithTimeout(bg, time.Hour)
	d, _ := ctx.Deadline()
	dl.watch(bg)() // clears what the connection may have had
	dl.watch(bg)()
	dl.watch(bg)()
	dl.watch(ctx)()
	dl.watch(bg)()
	cancel()
	dl.watch(ctx)() // cancelled: the deadline, then a past one
	dl.watch(bg)()
	want := []time.Time{{}, d, {}, d, aLongTimeAgo, {}}
	if len(got) != len(want) {
		t.Fatalf("set %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("set %v, want %v", got, want)
			break
		}
	}
}

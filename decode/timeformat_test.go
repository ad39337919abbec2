package decode

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestAppendTime compares appendTime with time's own formatting of the
// layout, on edge times and random ones in and out of its fast range.
func TestAppendTime(t *testing.T) {
	times := []time.Time{
		{},
		time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 1, time.FixedZone("x", 3600)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2024, 2, 29, 12, 0, 0, 5, time.FixedZone("y", -7*3600)),
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		times = append(times, time.Unix(r.Int64N(1<<36)-1<<35, r.Int64N(1e9)).In(time.FixedZone("z", r.IntN(50000)-25000)))
	}
	for _, tm := range times {
		want := tm.UTC().AppendFormat(nil, timeLayout)
		if got := appendTime([]byte("x"), tm); string(got) != "x"+string(want) {
			t.Fatalf("%v: %s, want x%s", tm, got, want)
		}
	}
}

package capture

import (
	"reflect"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Each loss is reported once, in a record of its own cause, in the order of the totals.
func TestLossRecords(t *testing.T) {
	var a assembler
	now := time.Unix(100, 0)
	type lost struct {
		cause capfile.LossCause
		n     uint32
		seq   uint64
	}
	check := func(step string, totals []lossTotal, want []lost) {
		t.Helper()
		var got []lost
		for _, r := range a.lossRecords(nil, now, totals) {
			if r.Kind != capfile.KindLoss || !r.Time.Equal(now) {
				t.Errorf("%s: kind %v, time %v", step, r.Kind, r.Time)
			}
			got = append(got, lost{r.Cause, r.Lost, r.Seq})
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v, want %v", step, got, want)
		}
	}
	check("none", []lossTotal{{capfile.LossRingFull, 0}, {capfile.LossReassembly, 0}}, nil)
	check("first", []lossTotal{{capfile.LossRingFull, 3}, {capfile.LossReassembly, 0}, {capfile.LossUnknown, 1}},
		[]lost{{capfile.LossRingFull, 3, 1}, {capfile.LossUnknown, 1, 2}})
	check("again", []lossTotal{{capfile.LossRingFull, 3}, {capfile.LossReassembly, 0}, {capfile.LossUnknown, 1}}, nil)
	check("more", []lossTotal{{capfile.LossRingFull, 10}, {capfile.LossReassembly, 2}, {capfile.LossUnknown, 1}},
		[]lost{{capfile.LossRingFull, 7, 3}, {capfile.LossReassembly, 2, 4}})
	check("huge", []lossTotal{{capfile.LossTooLarge, 1 << 40}}, []lost{{capfile.LossTooLarge, 1<<32 - 1, 5}})
}

func TestLostByCause(t *testing.T) {
	got := lostByCause([]lossTotal{{capfile.LossRingFull, 0}, {capfile.LossCopyFailed, 2}, {capfile.LossUnknown, 5}})
	want := map[capfile.LossCause]uint64{capfile.LossCopyFailed: 2, capfile.LossUnknown: 5}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}

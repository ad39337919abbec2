package analyse

import (
	"cmp"
	"slices"
)

// Loss is one row of the loss table: what the capture misses, per cause.
//
// Causes are the recorder's loss causes (ring_full, copy_failed,
// too_large, reassembly, unknown), "truncated" (messages the capture
// holds only part of), "undecodable" (messages decode could not read),
// "invalid" (damaged records) and "in_flight_cap" (requests that expected
// a reply but did not fit Config.MaxInFlight, so their outcome is not
// counted).
type Loss struct {
	Cause    string
	Records  uint64 // loss records, or affected messages or records
	Messages uint64 // messages lost or affected
}

func (a *Aggregator) addLoss(cause string, messages uint64) {
	l := a.loss[cause]
	if l == nil {
		l = &Loss{Cause: cause}
		a.loss[cause] = l
	}
	l.Records++
	l.Messages += messages
}

// Losses returns the loss table, by cause.
func (a *Aggregator) Losses() []Loss {
	rows := make([]Loss, 0, len(a.loss)+1)
	for _, l := range a.loss {
		rows = append(rows, *l)
	}
	if a.dropped > 0 {
		rows = append(rows, Loss{Cause: "in_flight_cap", Records: a.dropped, Messages: a.dropped})
	}
	slices.SortFunc(rows, func(x, y Loss) int { return cmp.Compare(x.Cause, y.Cause) })
	return rows
}

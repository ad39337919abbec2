package capture

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// lossTotal is the running count of messages lost for one cause since Open.
type lossTotal struct {
	cause capfile.LossCause
	n     uint64
}

// lossRecords appends to dst a loss record for each total that grew since
// the last call, in the order of totals.
func (a *assembler) lossRecords(dst []*capfile.Record, now time.Time, totals []lossTotal) []*capfile.Record {
	for _, lt := range totals {
		n := lt.n - a.reported[lt.cause]
		if n == 0 {
			continue
		}
		if a.reported == nil {
			a.reported = map[capfile.LossCause]uint64{}
		}
		a.reported[lt.cause] = lt.n
		dst = append(dst, a.lossRecord(now, n, lt.cause))
	}
	return dst
}

func (a *assembler) lossRecord(now time.Time, n uint64, cause capfile.LossCause) *capfile.Record {
	a.seq++
	return &capfile.Record{
		Kind:  capfile.KindLoss,
		Time:  now,
		Seq:   a.seq,
		Lost:  uint32(min(n, 1<<32-1)),
		Cause: cause,
	}
}

// lostByCause returns the totals that are not zero, by cause.
func lostByCause(totals []lossTotal) map[capfile.LossCause]uint64 {
	lost := map[capfile.LossCause]uint64{}
	for _, lt := range totals {
		if lt.n > 0 {
			lost[lt.cause] = lt.n
		}
	}
	return lost
}

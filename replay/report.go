package replay

import (
	"slices"
	"sort"
	"time"
)

// A Result is what became of one recorded request in one loop of a replay.
type Result struct {
	Loop    int    // from 0
	Seq     uint64 // the recorded request's sequence number (decode.Message.Seq)
	Packet  int    // and its packet in the capture file, from 1; 0 if unknown
	Conn    string // recorded connection key
	Service string
	Op      string
	Comm    string // the recorded client
	Class   Class
	Offset  time.Duration // recorded time since the first replayed request
	Outcome Outcome
	// Sent and Answered: the request went out, and every reply recorded for it came back.
	Sent, Answered bool
	Err            error  // why it failed
	Diffs          []Diff // for Diverged

	RecordedLatency time.Duration // request to last recorded reply; 0 when none
	Latency         time.Duration // request to last live reply; 0 when none
}

// Counts add up results.
type Counts struct {
	Requests  int // requests handled
	Sent      int
	Answered  int
	Matched   int
	Diverged  int
	Failed    int
	Refused   int
	Unchecked int
}

func (c *Counts) add(r *Result) {
	c.Requests++
	if r.Sent {
		c.Sent++
	}
	if r.Answered {
		c.Answered++
	}
	switch r.Outcome {
	case Matched:
		c.Matched++
	case Diverged:
		c.Diverged++
	case Failed:
		c.Failed++
	case Refused:
		c.Refused++
	case Unchecked:
		c.Unchecked++
	}
}

// Percentiles summarize latencies.
type Percentiles struct {
	N        int
	P50, P99 time.Duration
}

func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	at := func(q float64) time.Duration {
		i := int(q*float64(len(s))+0.5) - 1
		return s[max(0, min(i, len(s)-1))]
	}
	return Percentiles{N: len(s), P50: at(0.50), P99: at(0.99)}
}

// An OpReport sums up one operation of one service.
type OpReport struct {
	Service, Op string
	Class       Class
	Counts
	Recorded Percentiles // latencies of the recorded requests that were answered live
	Replayed Percentiles // and of their replays
}

// A Report is the outcome of a replay.
type Report struct {
	Conversations int // replayed per loop
	Skipped       Skipped
	Loops         int
	Elapsed       time.Duration
	Totals        Counts
	Ops           []OpReport // by service, then operation
	Results       []Result   // in the order requests were handled
}

// summarize fills Totals and Ops from Results.
func (r *Report) summarize() {
	r.Totals = Counts{}
	byKey := map[[2]string]*OpReport{}
	rec := map[[2]string][]time.Duration{}
	live := map[[2]string][]time.Duration{}
	for i := range r.Results {
		res := &r.Results[i]
		r.Totals.add(res)
		k := [2]string{res.Service, res.Op}
		o := byKey[k]
		if o == nil {
			o = &OpReport{Service: res.Service, Op: res.Op, Class: res.Class}
			byKey[k] = o
		}
		o.add(res)
		if res.Answered && res.Latency > 0 {
			live[k] = append(live[k], res.Latency)
			if res.RecordedLatency > 0 {
				rec[k] = append(rec[k], res.RecordedLatency)
			}
		}
	}
	r.Ops = r.Ops[:0]
	for k, o := range byKey {
		o.Recorded = percentiles(rec[k])
		o.Replayed = percentiles(live[k])
		r.Ops = append(r.Ops, *o)
	}
	sort.Slice(r.Ops, func(i, j int) bool {
		if r.Ops[i].Service != r.Ops[j].Service {
			return r.Ops[i].Service < r.Ops[j].Service
		}
		return r.Ops[i].Op < r.Ops[j].Op
	})
}

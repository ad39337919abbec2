package analyse

import (
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Rate is one row of the rate table: one service in one interval.
type Rate struct {
	Time     time.Time     // start of the interval
	Width    time.Duration // the interval's width
	Service  string
	Messages uint64 // messages sent in the interval
	Bytes    uint64 // their Size
	InFlight int    // the service's requests waiting for a reply after its last message in the interval
}

type rateCell struct {
	service  int // index into rateTable.services
	messages uint64
	bytes    uint64
	inFlight int
}

// rateTable holds one slice of cells per interval since origin; past max
// intervals it merges pairs and doubles width.
type rateTable struct {
	width     time.Duration
	max       int
	origin    time.Time
	intervals [][]rateCell
	services  []string
	index     map[string]int
}

func (a *Aggregator) addRate(m *decode.Message) {
	r := &a.rate
	if m.Time.IsZero() {
		return
	}
	if r.origin.IsZero() {
		r.origin = m.Time.Truncate(r.width)
		r.index = make(map[string]int)
	}
	i := int64(0)
	if m.Time.After(r.origin) {
		i = int64(m.Time.Sub(r.origin) / r.width)
	}
	for i >= int64(r.max) {
		r.halve()
		i /= 2
	}
	for int64(len(r.intervals)) <= i {
		r.intervals = append(r.intervals, nil)
	}
	s, ok := r.index[m.Service]
	if !ok {
		s = len(r.services)
		r.services = append(r.services, m.Service)
		r.index[m.Service] = s
	}
	cells := r.intervals[i]
	c := -1
	for j := range cells {
		if cells[j].service == s {
			c = j
			break
		}
	}
	if c < 0 {
		cells = append(cells, rateCell{service: s})
		c = len(cells) - 1
		r.intervals[i] = cells
	}
	cells[c].messages++
	cells[c].bytes += uint64(m.Size)
	cells[c].inFlight = a.inFlight[m.Service]
}

// halve merges neighbouring intervals: the table covers the same time at
// half the resolution.
func (r *rateTable) halve() {
	n := (len(r.intervals) + 1) / 2
	for k := 0; k < n; k++ {
		merged := r.intervals[2*k]
		if 2*k+1 < len(r.intervals) {
			for _, later := range r.intervals[2*k+1] {
				found := false
				for j := range merged {
					if merged[j].service == later.service {
						merged[j].messages += later.messages
						merged[j].bytes += later.bytes
						merged[j].inFlight = later.inFlight
						found = true
						break
					}
				}
				if !found {
					merged = append(merged, later)
				}
			}
		}
		r.intervals[k] = merged
	}
	clear(r.intervals[n:])
	r.intervals = r.intervals[:n]
	r.width *= 2
}

// Interval returns the rate table's current interval width: the
// configured one, doubled each time the table was merged to stay within
// MaxIntervals.
func (a *Aggregator) Interval() time.Duration { return a.rate.width }

// Rates returns the rate table: by time, then service, only the
// intervals and services with messages.
func (a *Aggregator) Rates() []Rate {
	r := &a.rate
	var rows []Rate
	for i, cells := range r.intervals {
		start := r.origin.Add(time.Duration(i) * r.width)
		first := len(rows)
		for _, c := range cells {
			rows = append(rows, Rate{Time: start, Width: r.width, Service: r.services[c.service],
				Messages: c.messages, Bytes: c.bytes, InFlight: c.inFlight})
		}
		slices.SortFunc(rows[first:], func(x, y Rate) int { return cmp.Compare(x.Service, y.Service) })
	}
	return rows
}

package analyse

import (
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// LatencyBucket counts the latencies of one operation in [From, To).
type LatencyBucket struct {
	From, To time.Duration
	Count    uint64
}

// LatencyBuckets returns the latency histogram of service's operation op
// in buckets with bounds of 1, 2 and 5 times a power of ten microseconds
// (the first starts at 0), from the first non-empty bucket to the last;
// nil when the operation has no latency. Each count is exact to the
// histogram's precision (3 significant digits): a latency near a bound may
// count in its neighbour.
func (a *Aggregator) LatencyBuckets(service, op string) []LatencyBucket {
	hist := a.latencyHist(service, op)
	if hist == nil {
		return nil
	}
	bounds := latencyBounds()
	counts := make([]uint64, len(bounds))
	for _, b := range hist.Distribution() {
		if b.Count == 0 {
			continue
		}
		i, _ := slices.BinarySearch(bounds, time.Duration(b.From)+1)
		counts[min(i, len(bounds)-1)] += uint64(b.Count)
	}
	lo, hi := -1, -1
	for i, n := range counts {
		if n > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	if lo < 0 {
		return nil
	}
	out := make([]LatencyBucket, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		b := LatencyBucket{To: bounds[i], Count: counts[i]}
		if i > 0 {
			b.From = bounds[i-1]
		}
		out = append(out, b)
	}
	return out
}

// latencyBounds are the upper bounds of the latency buckets: 1µs, 2µs,
// 5µs, 10µs, ... up to past the histogram's hour.
func latencyBounds() []time.Duration {
	var b []time.Duration
	for d := time.Microsecond; d <= 2*time.Duration(latencyMax); d *= 10 {
		b = append(b, d, 2*d, 5*d)
	}
	return b
}

// BacklogPoint is the largest event backlog of a connection within one
// interval starting at Time.
type BacklogPoint struct {
	Time    time.Time
	Backlog uint64
}

// BacklogSeries is the event backlog of one connection over time: events
// its server sent and its client had not read yet (see [Connection]).
type BacklogSeries struct {
	Conn      string
	Service   string
	ClientPID uint32
	Comm      string
	Max       uint64
	Points    []BacklogPoint // only intervals with a sent or read event
}

// backlogTable tracks the backlog of every connection in intervals of a
// shared width that doubles past max intervals, like the rate table.
type backlogTable struct {
	width  time.Duration
	max    int
	origin time.Time
	conns  map[string]*backlogConn
	keep   int // connections tracked at most
}

type backlogConn struct {
	service string
	client  uint32
	comm    string
	rx      bool
	backlog int64
	peak    int64
	start   int64   // interval index of vals[0]
	vals    []int64 // the largest backlog in each interval; -1: no event
}

func newBacklogTable(width time.Duration, max, keep int) backlogTable {
	return backlogTable{width: width, max: max, keep: keep, conns: make(map[string]*backlogConn)}
}

func (t *backlogTable) add(m *decode.Message) {
	if m.Kind != decode.KindMessage || m.Conn == "" || m.Time.IsZero() {
		return
	}
	c := t.conns[m.Conn]
	if c == nil {
		if len(t.conns) >= t.keep {
			return
		}
		c = &backlogConn{service: m.Service, client: m.ClientPID}
		t.conns[m.Conn] = c
	}
	switch {
	case m.Channel == capfile.ChannelRequest && !m.RX:
		c.comm = m.Comm
		return
	case m.Channel != capfile.ChannelEvent:
		return
	case m.RX:
		c.rx = true
		if c.backlog > 0 {
			c.backlog--
		}
	default:
		c.backlog++
		c.peak = max(c.peak, c.backlog)
	}
	t.record(c, m.Time)
}

// record notes c's backlog at time at.
func (t *backlogTable) record(c *backlogConn, at time.Time) {
	if t.origin.IsZero() {
		t.origin = at.Truncate(t.width)
	}
	i := int64(0)
	if at.After(t.origin) {
		i = int64(at.Sub(t.origin) / t.width)
	}
	for i >= int64(t.max) {
		t.halve()
		i /= 2
	}
	if len(c.vals) == 0 {
		c.start = i
	}
	if i < c.start {
		i = c.start // a late read: times are not strictly ordered between send and receive side
	}
	for int64(len(c.vals)) <= i-c.start {
		c.vals = append(c.vals, -1)
	}
	k := i - c.start
	c.vals[k] = max(c.vals[k], c.backlog)
}

// halve merges neighbouring intervals of every connection, keeping the larger backlog.
func (t *backlogTable) halve() {
	for _, c := range t.conns {
		if len(c.vals) == 0 {
			continue
		}
		start := c.start / 2
		end := (c.start + int64(len(c.vals)) - 1) / 2
		vals := make([]int64, end-start+1)
		for k := range vals {
			vals[k] = -1
		}
		for k, v := range c.vals {
			j := (c.start+int64(k))/2 - start
			vals[j] = max(vals[j], v)
		}
		c.start, c.vals = start, vals
	}
	t.width *= 2
}

// series returns the backlog of the connections whose receive side was
// recorded, largest backlog first, then by connection.
func (t *backlogTable) series() []BacklogSeries {
	var out []BacklogSeries
	for conn, c := range t.conns {
		if !c.rx {
			continue
		}
		s := BacklogSeries{Conn: conn, Service: c.service, ClientPID: c.client, Comm: c.comm, Max: uint64(c.peak)}
		for k, v := range c.vals {
			if v >= 0 {
				s.Points = append(s.Points, BacklogPoint{Time: t.origin.Add(time.Duration(c.start+int64(k)) * t.width), Backlog: uint64(v)})
			}
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y BacklogSeries) int {
		return cmp.Or(cmp.Compare(y.Max, x.Max), cmp.Compare(x.Conn, y.Conn))
	})
	return out
}

// busiestSecond finds the whole second of capture time with the most
// messages sent and keeps its flow diagram.
type busiestSecond struct {
	opts    FlowOptions
	procs   map[flowKey]*flowProc // shared by the builders: names learnt over the whole capture
	sec     int64
	count   int
	cur     *FlowBuilder
	best    *FlowBuilder
	bestSec int64
	bestN   int
}

func newBusiestSecond(max int) busiestSecond {
	return busiestSecond{opts: FlowOptions{Max: max}, procs: make(map[flowKey]*flowProc)}
}

func (b *busiestSecond) add(m *decode.Message) {
	if m.Time.IsZero() || (m.Kind == decode.KindMessage && m.RX) {
		return
	}
	if m.Kind != decode.KindMessage && m.Kind != decode.KindLoss && m.Kind != decode.KindInvalid {
		return
	}
	sec := m.Time.Unix()
	if b.cur == nil || sec != b.sec {
		b.finish()
		b.cur = NewFlowBuilder(b.opts)
		b.cur.procs = b.procs
		b.sec, b.count = sec, 0
	}
	if m.Kind == decode.KindMessage {
		b.count++
	}
	b.cur.Add(m)
}

// finish ends the current second: it becomes the busiest if it had more messages.
func (b *busiestSecond) finish() {
	if b.cur != nil && b.count > b.bestN {
		b.best, b.bestSec, b.bestN = b.cur, b.sec, b.count
	}
	b.cur = nil
}

// rateSeries counts the messages sent per service in intervals that
// start at 10ms and double to keep at most max of them over the capture:
// the rate chart has a useful resolution on a capture of a second as on
// one of a day.
type rateSeries struct {
	width    time.Duration
	max      int
	origin   time.Time
	services []string
	index    map[string]int
	counts   [][]uint64 // per service, per interval
	n        int        // intervals
}

func newRateSeries(max int) rateSeries {
	return rateSeries{width: 10 * time.Millisecond, max: max, index: make(map[string]int)}
}

func (s *rateSeries) add(m *decode.Message) {
	if m.Kind != decode.KindMessage || m.RX || m.Time.IsZero() {
		return
	}
	if s.origin.IsZero() {
		s.origin = m.Time.Truncate(s.width)
	}
	i := 0
	if m.Time.After(s.origin) {
		i = int(m.Time.Sub(s.origin) / s.width)
	}
	for i >= s.max {
		s.halve()
		i /= 2
	}
	k, ok := s.index[m.Service]
	if !ok {
		k = len(s.services)
		s.services = append(s.services, m.Service)
		s.index[m.Service] = k
		s.counts = append(s.counts, nil)
	}
	for len(s.counts[k]) <= i {
		s.counts[k] = append(s.counts[k], 0)
	}
	s.counts[k][i]++
	s.n = max(s.n, i+1)
}

func (s *rateSeries) halve() {
	for k, c := range s.counts {
		merged := make([]uint64, (len(c)+1)/2)
		for i, n := range c {
			merged[i/2] += n
		}
		s.counts[k] = merged
	}
	s.n = (s.n + 1) / 2
	s.width *= 2
}

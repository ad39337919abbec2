package analyse

import (
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// TopHistory is how many intervals of request rates a [TopFrame] row
// keeps for its sparkline.
const TopHistory = 10

// topIdle is how long a client that sent nothing stays in a Top's
// tables: a node's short-lived tools come and go, the view must not grow.
const topIdle = 5 * time.Minute

// Top is the model of `pcmk-trace top`: an [Aggregator] over the whole run
// and, at each [Top.Tick], what changed since the previous tick. Its memory
// is bounded by the services, operations and live clients, not by the
// number of messages or intervals. It is not safe for concurrent use.
type Top struct {
	agg  *Aggregator
	last time.Time // the previous tick, or the start

	messages, bytes uint64 // at the previous tick
	lost, lostPrev  uint64 // messages the recorder lost: now, at the previous tick

	ops     map[opKey]*topPrev
	clients map[clientKey]*topPrev
}

// topPrev is a row's totals at the previous tick, and its recent rates.
type topPrev struct {
	requests, bytes, latencies uint64
	history                    []float64
	seen                       time.Time // the last tick the row changed
}

// TopFrame is what a Top shows for one interval.
type TopFrame struct {
	Time  time.Time     // the interval's end
	Width time.Duration // the interval's width

	Messages, Bytes           uint64 // sent in the interval
	TotalMessages, TotalBytes uint64 // sent since the start
	Lost, TotalLost           uint64 // messages the recorder lost: in the interval, since the start

	Ops         []TopOp
	Clients     []TopClient
	Connections []TopConnection // with the receive side recorded only
	IPCLimit    int             // the backlog at which Pacemaker evicts a client
}

// TopOp is one operation of one service in a [TopFrame].
type TopOp struct {
	Service, Op string

	Requests uint64 // requests in the interval
	Total    uint64 // requests since the start
	Bytes    uint64 // request and answer bytes in the interval

	// Latencies answered in the interval, and their percentiles (zero
	// when there are none).
	Latencies uint64
	P50, P99  time.Duration

	InFlight uint64 // requests waiting for their reply at the interval's end
	Errors   uint64 // requests answered with an error, since the start

	History []float64 // requests per second of the last TopHistory intervals, oldest first
}

// TopClient is one client process's conversation with one service in a [TopFrame].
type TopClient struct {
	PID     uint32
	Comm    string
	Service string

	Requests uint64 // requests in the interval
	Total    uint64 // requests since the start
	Bytes    uint64 // bytes both ways in the interval

	History []float64 // requests per second of the last TopHistory intervals, oldest first
}

// TopConnection is one connection's event backlog in a [TopFrame]: events
// its server sent that the client has not read yet.
type TopConnection struct {
	Conn      string
	Service   string
	ClientPID uint32
	Comm      string
	Backlog   uint64
	Max       uint64 // the largest backlog seen
}

// PerSecond returns n per second over the frame's interval.
func (f *TopFrame) PerSecond(n uint64) float64 {
	if f.Width <= 0 {
		return 0
	}
	return float64(n) / f.Width.Seconds()
}

// NewTop returns a Top whose first interval starts at start.
func NewTop(cfg Config, start time.Time) *Top {
	a := New(cfg)
	a.forTop = true
	return &Top{agg: a, last: start, ops: make(map[opKey]*topPrev), clients: make(map[clientKey]*topPrev)}
}

// Add accounts for one message. A disconnect ends its connection's row.
func (t *Top) Add(m *decode.Message) {
	switch m.Kind {
	case decode.KindLoss:
		t.lost += uint64(m.Lost)
	case decode.KindDisconnect:
		delete(t.agg.conns, m.Conn)
		return
	}
	t.agg.Add(m)
}

// Aggregator returns the Aggregator over the whole run. It keeps only the
// tables top shows: the rate, sizes and fanout tables stay empty.
func (t *Top) Aggregator() *Aggregator { return t.agg }

// Tick ends the interval at now and returns its frame.
func (t *Top) Tick(now time.Time) TopFrame {
	a := t.agg
	f := TopFrame{Time: now, Width: now.Sub(t.last), TotalMessages: a.messages, TotalBytes: a.bytes,
		Messages: a.messages - t.messages, Bytes: a.bytes - t.bytes,
		TotalLost: t.lost, Lost: t.lost - t.lostPrev, IPCLimit: a.cfg.IPCLimit}
	t.last, t.messages, t.bytes, t.lostPrev = now, a.messages, a.bytes, t.lost

	for k, st := range a.ops {
		p := t.ops[k]
		if p == nil {
			p = &topPrev{}
			t.ops[k] = p
		}
		r := TopOp{Service: k.service, Op: k.op, Total: st.Requests, Requests: st.Requests - p.requests,
			Bytes: st.RequestBytes + st.ReplyBytes - p.bytes, Latencies: st.Latencies - p.latencies,
			InFlight: st.open, Errors: st.Errors}
		if r.Latencies > 0 {
			r.P50 = time.Duration(st.recent.ValueAtQuantile(50))
			r.P99 = time.Duration(st.recent.ValueAtQuantile(99))
			st.recent.Reset()
		}
		p.requests, p.bytes, p.latencies = st.Requests, st.RequestBytes+st.ReplyBytes, st.Latencies
		r.History = p.push(f.PerSecond(r.Requests))
		f.Ops = append(f.Ops, r)
	}
	slices.SortFunc(f.Ops, func(x, y TopOp) int { return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Op, y.Op)) })

	for k, c := range a.clients {
		p := t.clients[k]
		if p == nil {
			p = &topPrev{seen: now}
			t.clients[k] = p
		}
		total := c.BytesIn + c.BytesOut
		r := TopClient{PID: c.PID, Comm: c.Comm, Service: c.Service, Total: c.Requests,
			Requests: c.Requests - p.requests, Bytes: total - p.bytes}
		if r.Requests > 0 || r.Bytes > 0 {
			p.seen = now
		} else if now.Sub(p.seen) > topIdle {
			delete(a.clients, k)
			delete(t.clients, k)
			continue
		}
		p.requests, p.bytes = c.Requests, total
		r.History = p.push(f.PerSecond(r.Requests))
		f.Clients = append(f.Clients, r)
	}
	slices.SortFunc(f.Clients, func(x, y TopClient) int {
		return cmp.Or(cmp.Compare(x.PID, y.PID), cmp.Compare(x.Service, y.Service))
	})

	for _, c := range a.conns {
		if !c.RX {
			continue
		}
		f.Connections = append(f.Connections, TopConnection{Conn: c.Conn, Service: c.Service, ClientPID: c.ClientPID,
			Comm: c.Comm, Backlog: uint64(max(c.backlog, 0)), Max: c.MaxBacklog})
	}
	slices.SortFunc(f.Connections, func(x, y TopConnection) int {
		return cmp.Or(cmp.Compare(y.Backlog, x.Backlog), cmp.Compare(x.Conn, y.Conn))
	})
	return f
}

// push appends a rate to the row's history and returns a copy of it.
func (p *topPrev) push(rate float64) []float64 {
	if len(p.history) == TopHistory {
		copy(p.history, p.history[1:])
		p.history = p.history[:TopHistory-1]
	}
	p.history = append(p.history, rate)
	return slices.Clone(p.history)
}

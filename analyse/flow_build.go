package analyse

import (
	"slices"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// FlowOptions choose the messages of a flow diagram.
type FlowOptions struct {
	// Max is the most arrows kept; later selected messages are only
	// counted (Flow.Selected). 0 keeps all.
	Max int
	// Around, if not 0, selects the message with this Seq, the messages of
	// its connection within Window before and after it, the request it
	// answers, and every message within Window after it on any connection.
	Around uint64
	Window time.Duration
}

// FlowBuilder collects a [Flow] from a stream of messages. Its memory is
// bounded by Max (and, with Around, by the messages of one Window).
type FlowBuilder struct {
	opts   FlowOptions
	arrows []Arrow
	n      int // selected
	procs  map[flowKey]*flowProc

	// Around.
	found  bool
	done   bool
	t0     time.Time
	before []decode.Message // messages within Window before the current one
}

// flowKey is a process of a node: the nodes of a merged capture share pid numbers.
type flowKey struct {
	node string
	pid  uint32
}

type flowProc struct {
	comm    string
	hostPID uint32
	service string // a service it serves
}

// flowMaxProcs bounds the process table on captures of many short-lived clients.
const flowMaxProcs = 1 << 16

// flowMaxBefore bounds the messages kept while looking for Around's message.
const flowMaxBefore = 1 << 14

// NewFlowBuilder returns a builder that selects by opts.
func NewFlowBuilder(opts FlowOptions) *FlowBuilder {
	return &FlowBuilder{opts: opts, procs: make(map[flowKey]*flowProc)}
}

// Add takes the next message of the stream. It returns false when no later
// message can be selected (Around's window has passed), so reading may stop.
func (b *FlowBuilder) Add(m *decode.Message) bool {
	if b.done {
		return false
	}
	if m.Kind == decode.KindMessage && !m.RX {
		b.learn(m)
	}
	if !flowDrawn(m) {
		return true
	}
	c := *m
	c.XML = nil // the diagram needs none of it
	if b.opts.Around == 0 {
		b.keep(&c)
		return true
	}
	if !b.found {
		if m.Seq != b.opts.Around {
			b.remember(&c)
			return true
		}
		b.found, b.t0 = true, m.Time
		var req uint64
		if m.ReplyTo != nil {
			req = m.ReplyTo.Seq
		}
		for i := range b.before {
			p := &b.before[i]
			if (p.Kind == decode.KindMessage && p.Conn == m.Conn && !p.Time.Before(m.Time.Add(-b.opts.Window))) || p.Seq == req {
				b.keep(p)
			}
		}
		b.before = nil
		b.keep(&c)
		return true
	}
	if !m.Time.IsZero() && m.Time.Sub(b.t0) > b.opts.Window {
		b.done = true
		return false
	}
	b.keep(&c)
	return true
}

// Found reports whether Around's message was seen (always true without Around).
func (b *FlowBuilder) Found() bool { return b.opts.Around == 0 || b.found }

// flowDrawn reports whether m becomes a row of the diagram: the send side of
// messages, and loss and damaged records; not lifecycle records.
func flowDrawn(m *decode.Message) bool {
	switch m.Kind {
	case decode.KindMessage:
		return !m.RX
	case decode.KindLoss, decode.KindInvalid:
		return true
	}
	return false
}

func (b *FlowBuilder) keep(m *decode.Message) {
	b.n++
	if b.opts.Max > 0 && len(b.arrows) >= b.opts.Max {
		return
	}
	b.arrows = append(b.arrows, Arrow{Msg: *m, From: -1, To: -1, Pair: -1})
}

// remember keeps m among the messages before Around's, dropping those older than Window.
func (b *FlowBuilder) remember(m *decode.Message) {
	cut := 0
	for cut < len(b.before) && (m.Time.Sub(b.before[cut].Time) > b.opts.Window || len(b.before)-cut >= flowMaxBefore) {
		cut++
	}
	if cut > 0 {
		b.before = append(b.before[:0], b.before[cut:]...)
	}
	b.before = append(b.before, *m)
}

// learn remembers the writer's command name and the services a process serves.
func (b *FlowBuilder) learn(m *decode.Message) {
	if len(b.procs) >= flowMaxProcs {
		clear(b.procs)
	}
	proc := func(pid uint32) *flowProc {
		k := flowKey{m.Node, pid}
		p := b.procs[k]
		if p == nil {
			p = &flowProc{}
			b.procs[k] = p
		}
		return p
	}
	from, _ := flowEnds(m)
	if from != 0 && m.Comm != "" {
		p := proc(from)
		p.comm = m.Comm
		if m.PID != from {
			p.hostPID = m.PID
		}
	}
	if m.ServerPID != 0 && m.Service != "" {
		if p := proc(m.ServerPID); p.service == "" {
			p.service = m.Service
		}
	}
}

// Flow returns the diagram of the messages selected so far.
func (b *FlowBuilder) Flow() *Flow {
	f := &Flow{Arrows: b.arrows, Selected: b.n}
	index := make(map[flowKey]int)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		m := &a.Msg
		if f.Start.IsZero() && !m.Time.IsZero() {
			f.Start = m.Time
		}
		switch m.Kind {
		case decode.KindLoss:
			a.Kind, a.Label = ArrowLoss, flowMarker(m)
			continue
		case decode.KindInvalid:
			a.Kind, a.Label, a.Error = ArrowInvalid, flowMarker(m), true
			continue
		}
		switch {
		case m.Channel == capfile.ChannelRequest:
			a.Kind = ArrowRequest
		case m.Role == decode.RoleReply || m.Role == decode.RoleAck:
			a.Kind = ArrowReply
		default:
			a.Kind = ArrowEvent
		}
		a.Label, a.Error = flowLabel(m), flowIsError(m)
		from, to := flowEnds(m)
		for _, pid := range []uint32{from, to} {
			if _, ok := index[flowKey{m.Node, pid}]; !ok {
				index[flowKey{m.Node, pid}] = len(f.Lifelines)
				f.Lifelines = append(f.Lifelines, b.lifeline(m.Node, pid, i))
			}
		}
	}
	multi := false
	for _, l := range f.Lifelines {
		multi = multi || l.Node != f.Lifelines[0].Node
	}
	slices.SortStableFunc(f.Lifelines, func(x, y Lifeline) int {
		if multi && x.Node != y.Node {
			return strings.Compare(x.Node, y.Node) // a node's processes side by side
		}
		if x.rank != y.rank {
			return x.rank - y.rank
		}
		return x.first - y.first
	})
	for i, l := range f.Lifelines {
		index[flowKey{l.Node, l.PID}] = i
	}
	if !multi {
		for i := range f.Lifelines {
			f.Lifelines[i].Node = "" // one node: its name on every lifeline says nothing
		}
	}
	requests := make(map[uint64]int)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
			continue
		}
		from, to := flowEnds(&a.Msg)
		a.From, a.To = index[flowKey{a.Msg.Node, from}], index[flowKey{a.Msg.Node, to}]
		if a.Kind == ArrowRequest {
			requests[a.Msg.Seq] = i
		}
		if p := a.Msg.ReplyTo; p != nil {
			if r, ok := requests[p.Seq]; ok {
				a.Pair = r
				if f.Arrows[r].Pair < 0 {
					f.Arrows[r].Pair = i
				}
			}
		}
	}
	return f
}

// lifeline names the process pid from what its messages said.
func (b *FlowBuilder) lifeline(node string, pid uint32, first int) Lifeline {
	l := Lifeline{Node: node, PID: pid, rank: flowClientRank, first: first}
	p := b.procs[flowKey{node, pid}]
	if p == nil {
		return l
	}
	l.HostPID = p.hostPID
	if p.comm != "" {
		l.rank, l.Comm = flowDaemonOf(p.comm)
	}
	if l.rank == flowClientRank && p.service != "" {
		if rank, name := flowServerOf(p.service); rank != flowClientRank {
			l.rank = rank
			if l.Comm == "" {
				l.Comm = name
			}
		}
	}
	return l
}

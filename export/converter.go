package export

import (
	"context"
	"time"

	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Defaults of [Config].
const (
	DefaultWindow          = 50 * time.Millisecond
	DefaultConversationGap = time.Second
	DefaultAckWait         = 10 * time.Second
	DefaultMaxDepth        = 32
)

// Config says where a capture's messages come from and how they are
// grouped into traces (doc.go).
type Config struct {
	// Source names the capture (its section header and first record, say);
	// the trace and span ids derive from it and the messages' Seq.
	Source string
	// Node is the node of messages that do not name theirs: for a capture
	// of one node, its host name.
	Node string

	Window          time.Duration // rule 2: how long after a process received something its messages are blamed on it
	ConversationGap time.Duration // rule 3: the longest pause within one tool conversation
	MaxDepth        int           // rule 2: the longest chain of causes
	// AckWait is how long a request that was only acknowledged waits for
	// an answering event before its spans end at the ack, PendingTimeout
	// how long one waits for any answer (default
	// decode.DefaultPendingTimeout).
	AckWait        time.Duration
	PendingTimeout time.Duration

	// NodeOf and ClusterMsgOf, when set, read a message's node and the
	// identity of a cluster-wide message (rule 1) where decode.Message does
	// not carry them; "" means the message does not say.
	NodeOf       func(*decode.Message) string
	ClusterMsgOf func(*decode.Message) string
}

// Stats count what a Converter made.
type Stats struct {
	Requests      uint64 // requests: each a CLIENT and a SERVER span
	Answered      uint64 // of them ended by an answer
	Unanswered    uint64 // ended without the answer they expected
	Notifications uint64 // notifications and events (and stray answers): a PRODUCER span each
	Traces        uint64 // traces started
	Errors        uint64 // spans pairs with an error status
}

// Converter turns one capture's messages into spans sent to a [Sink].
// It is not safe for concurrent use.
type Converter struct {
	sink *Sink
	cfg  Config
	ids  ids

	procs   map[procKey]procInfo
	causes  map[procKey]cause
	convs   map[procKey]conv // a tool's conversation
	cluster map[string]cause
	pending map[uint64]*call
	ended   map[uint64]trace.SpanContext // SERVER spans of answered requests, for answers that come after
	queue   []*call                      // waiting for an answer, oldest first
	acked   []*call                      // acknowledged, waiting for an event, oldest ack first
	last    time.Time
	stats   Stats
}

// procKey is a process as the connection names see it: pids within its
// node's pid namespace.
type procKey struct {
	node string
	pid  uint32
}

type procInfo struct {
	pid  uint32 // as recorded (the initial pid namespace)
	comm string
}

// call is a request whose spans are still open.
type call struct {
	req      decode.Message // without its XML
	node     string
	client   trace.Span
	sc       trace.SpanContext
	serverID trace.SpanID
	ack      *decode.Message
	deadline time.Time
	oneWay   bool
	done     bool
}

// NewConverter returns a converter of one capture's messages into sink.
func NewConverter(sink *Sink, cfg Config) *Converter {
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.ConversationGap <= 0 {
		cfg.ConversationGap = DefaultConversationGap
	}
	if cfg.MaxDepth <= 0 {
		cfg.MaxDepth = DefaultMaxDepth
	}
	if cfg.AckWait <= 0 {
		cfg.AckWait = DefaultAckWait
	}
	if cfg.PendingTimeout <= 0 {
		cfg.PendingTimeout = decode.DefaultPendingTimeout
	}
	return &Converter{
		sink: sink, cfg: cfg, ids: newIDs(cfg.Source),
		procs: map[procKey]procInfo{}, causes: map[procKey]cause{}, convs: map[procKey]conv{},
		cluster: map[string]cause{}, pending: map[uint64]*call{}, ended: map[uint64]trace.SpanContext{},
	}
}

// Stats returns the counts so far.
func (c *Converter) Stats() Stats { return c.stats }

// Add turns m into spans, or into the end of spans it answers. Loss,
// lifecycle and receive-side records (the send side of the same message
// is in the capture too) are left out.
func (c *Converter) Add(m *decode.Message) {
	if m.Kind != decode.KindMessage || m.RX {
		return
	}
	c.expire(m.Time)
	if m.Time.After(c.last) {
		c.last = m.Time
	}
	node := c.nodeOf(m)
	if m.Channel == capfile.ChannelRequest {
		c.procs[procKey{node, m.ClientPID}] = procInfo{m.PID, m.Comm}
	} else {
		c.procs[procKey{node, m.ServerPID}] = procInfo{m.PID, m.Comm}
	}
	switch {
	case m.Role == decode.RoleRequest:
		c.request(m, node)
	case m.ReplyTo != nil && c.pending[m.ReplyTo.Seq] != nil:
		c.answer(c.pending[m.ReplyTo.Seq], m)
	default:
		c.notification(m, node)
	}
}

// Close ends the spans still open: unanswered requests end at the last
// time seen. The spans go on to the sink; Sink.Shutdown sends them.
func (c *Converter) Close() {
	for _, q := range [][]*call{c.acked, c.queue} {
		for _, k := range q {
			if !k.done {
				c.giveUp(k, c.last)
			}
		}
	}
	c.queue, c.acked = nil, nil
	clear(c.pending)
}

// start starts a span of process p with the given ids: a child of parent
// when it is valid, else a root in trace tid.
func (c *Converter) start(p Process, parent trace.SpanContext, tid trace.TraceID, sid trace.SpanID,
	name string, opts ...trace.SpanStartOption) trace.Span {
	ctx := context.Background()
	if parent.IsValid() {
		ctx = trace.ContextWithSpanContext(ctx, parent)
		tid = parent.TraceID()
	}
	ctx = withIDs(ctx, tid, sid)
	_, sp := c.sink.tracer(p).Start(ctx, name, opts...)
	return sp
}

// process returns the resource of the process with pid (as the connection
// names it) on node, falling back to name when it was never seen writing.
func (c *Converter) process(node string, pid uint32, name string) Process {
	if pi, ok := c.procs[procKey{node, pid}]; ok {
		full, _ := fullName(pi.comm)
		return Process{Node: node, Service: full, Comm: pi.comm, PID: pi.pid}
	}
	return Process{Node: node, Service: name, PID: pid}
}

func (c *Converter) request(m *decode.Message, node string) {
	c.stats.Requests++
	from := procKey{node, m.ClientPID}
	full, daemon := fullName(m.Comm)
	p := Process{Node: node, Service: full, Comm: m.Comm, PID: m.PID}
	k := &call{req: *m, node: node, serverID: c.ids.span(tagServer, m.Seq)}
	k.req.XML = nil
	par, caused := c.parent(m, from)
	tid := c.ids.trace(m.Seq)
	ck := procKey{node, m.ClientPID}
	if !caused {
		if cv, ok := c.convs[ck]; ok && !daemon && m.Time.Sub(cv.last) <= c.cfg.ConversationGap {
			tid = cv.trace
		} else {
			c.stats.Traces++
		}
	}
	k.client = c.start(p, par.sc, tid, c.ids.span(tagClient, m.Seq), spanName(m),
		trace.WithSpanKind(trace.SpanKindClient), trace.WithTimestamp(m.Time),
		trace.WithAttributes(requestAttrs(m, node)...))
	k.sc = k.client.SpanContext()
	if !daemon {
		if len(c.convs) >= maxEntries {
			c.sweepConvs(m.Time)
		}
		c.convs[ck] = conv{k.sc.TraceID(), m.Time}
	}
	if key := c.clusterMsgOf(m); key != "" {
		if _, ok := c.cluster[key]; !ok {
			c.addCluster(key, cause{k.sc, m.Time, par.depth})
		}
	}
	server := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: k.sc.TraceID(), SpanID: k.serverID, TraceFlags: trace.FlagsSampled})
	c.causes[procKey{node, m.ServerPID}] = cause{server, m.Time, par.depth}

	switch {
	case m.ExpectsReply:
		k.deadline = m.Time.Add(c.cfg.PendingTimeout)
	case pcmk.ServiceFamily(m.Service) == pcmk.FamilyCorosync:
		k.oneWay = true // corosync may answer, or not
		k.deadline = m.Time.Add(c.cfg.AckWait)
	default:
		k.oneWay = true
		c.end(k, nil, m.Time, codes.Unset, "")
		return
	}
	c.pending[m.Seq] = k
	c.queue = append(c.queue, k)
}

// answer ends k's spans at m, or notes an ack and waits for the answer
// that follows it. A nack is final.
func (c *Converter) answer(k *call, m *decode.Message) {
	if m.Role == decode.RoleAck && k.ack == nil && m.Root != "nack" {
		a := *m
		a.XML = nil
		k.ack = &a
		name := "ack"
		if m.Root == "nack" {
			name = "nack"
		}
		k.client.AddEvent(name, trace.WithTimestamp(m.Time), trace.WithAttributes(answerAttrs(m)...))
		k.deadline = m.Time.Add(c.cfg.AckWait)
		c.acked = append(c.acked, k)
		return
	}
	c.stats.Answered++
	code, why := status(m)
	c.end(k, m, m.Time, code, why)
}

// giveUp ends k's spans when no (further) answer came by at.
func (c *Converter) giveUp(k *call, at time.Time) {
	switch {
	case k.ack != nil:
		c.stats.Answered++
		code, why := status(k.ack)
		c.end(k, k.ack, k.ack.Time, code, why)
	case k.oneWay:
		c.end(k, nil, k.req.Time, codes.Unset, "")
	default:
		c.stats.Unanswered++
		c.end(k, nil, at, codes.Error, "unanswered")
	}
}

// end ends both spans of k at the time at, with the answer ans (nil: none).
func (c *Converter) end(k *call, ans *decode.Message, at time.Time, code codes.Code, why string) {
	k.done = true
	delete(c.pending, k.req.Seq)
	if code == codes.Error {
		c.stats.Errors++
	}
	var server Process
	if ans != nil {
		full, _ := fullName(ans.Comm)
		server = Process{Node: k.node, Service: full, Comm: ans.Comm, PID: ans.PID}
		k.client.SetAttributes(answerAttrs(ans)...)
	} else {
		server = c.process(k.node, k.req.ServerPID, serverName(k.req.Service))
		if k.oneWay {
			k.client.SetAttributes(keyOneWay.Bool(true))
		}
	}
	k.client.SetStatus(code, why)
	attrs := requestAttrs(&k.req, k.node)
	if ans != nil {
		attrs = append(attrs, answerAttrs(ans)...)
	}
	if k.oneWay {
		attrs = append(attrs, keyOneWay.Bool(true))
	}
	sp := c.start(server, k.sc, k.sc.TraceID(), k.serverID, spanName(&k.req),
		trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(k.req.Time),
		trace.WithAttributes(attrs...))
	sp.SetStatus(code, why)
	sp.End(trace.WithTimestamp(at))
	k.client.End(trace.WithTimestamp(at))
	if len(c.ended) >= maxEntries {
		clear(c.ended) // a late answer then starts a trace of its own
	}
	c.ended[k.req.Seq] = sp.SpanContext()
}

// notification makes a PRODUCER span of a notification, an event that
// answers no request, or an answer whose request's spans have ended (an
// execd completion after its reply): that one is a child of the request's
// SERVER span.
func (c *Converter) notification(m *decode.Message, node string) {
	c.stats.Notifications++
	from, to := procKey{node, m.ServerPID}, procKey{node, m.ClientPID}
	if m.Channel == capfile.ChannelRequest {
		from, to = to, from
	}
	full, _ := fullName(m.Comm)
	p := Process{Node: node, Service: full, Comm: m.Comm, PID: m.PID}
	par, caused := c.parent(m, from)
	if m.ReplyTo != nil {
		if sc, ok := c.ended[m.ReplyTo.Seq]; ok {
			par, caused = cause{sc, m.Time, 0}, true
		}
	}
	if !caused {
		c.stats.Traces++
	}
	sp := c.start(p, par.sc, c.ids.trace(m.Seq), c.ids.span(tagNotify, m.Seq), spanName(m),
		trace.WithSpanKind(trace.SpanKindProducer), trace.WithTimestamp(m.Time),
		trace.WithAttributes(messageAttrs(m, node, to.pid)...))
	if bad, why := failed(m); bad {
		sp.SetStatus(codes.Error, why)
	}
	sp.End(trace.WithTimestamp(m.Time))
	sc := sp.SpanContext()
	c.causes[to] = cause{sc, m.Time, par.depth}
	if key := c.clusterMsgOf(m); key != "" {
		if _, ok := c.cluster[key]; !ok {
			c.addCluster(key, cause{sc, m.Time, par.depth})
		}
	}
}

// expire gives up the requests whose wait ended before now.
func (c *Converter) expire(now time.Time) {
	c.acked = c.expireQueue(c.acked, now, true)
	c.queue = c.expireQueue(c.queue, now, false)
}

func (c *Converter) expireQueue(q []*call, now time.Time, acked bool) []*call {
	i := 0
	for ; i < len(q); i++ {
		k := q[i]
		if k.done {
			continue
		}
		if !acked && k.ack != nil {
			continue // in the acked queue
		}
		if !k.deadline.Before(now) {
			break
		}
		c.giveUp(k, k.deadline)
	}
	return q[i:]
}

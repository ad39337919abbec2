package analyse

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Latencies are recorded in nanoseconds with 3 significant digits, up to
// an hour; longer ones count as an hour in the percentiles (min, max and
// sum stay exact).
const (
	latencyDigits = 3
	latencyMax    = int64(time.Hour)
)

// Op is one row of the ops table: the requests of one operation of one
// service and the answers to them.
type Op struct {
	Node    string // the node, in a capture of several nodes (see Aggregator.Nodes)
	Service string
	Op      string // the operation, or "qb_id=N" for messages without one (corosync)

	Requests   uint64 // requests sent
	Answered   uint64 // requests that got an answer (an ack counts)
	Unanswered uint64 // requests that expected a reply and got none: still open, or given up
	NoRequest  uint64 // responses that answer no request seen
	Errors     uint64 // requests answered with a nonzero rc (once each), and such responses to no request

	// Latency of the reply, one per request: an ack counts as the reply
	// except from controld, pacemakerd and schedulerd, whose real reply
	// follows it as an event; an execd completion event, which follows the
	// reply, does not count. Exact minimum, maximum and sum, and
	// percentiles from the histogram, within [Min, Max]. Zero when
	// Latencies is 0.
	Latencies     uint64
	Min, Max, Sum time.Duration
	P50, P90, P99 time.Duration
	RequestBytes  uint64 // Size of the requests
	ReplyBytes    uint64 // Size of the answers, acks included
}

type opKey struct{ node, service, op string }

type opStats struct {
	Op
	open uint64 // requests that expect a reply and still wait for it
	gone uint64 // requests that expected a reply and were given up unanswered
	hist *hdrhistogram.Histogram
	// recent holds the latencies since the last Top.Tick, which resets
	// it (only in a Top's Aggregator, per interval): taking the difference
	// of copies of hist's counts at every tick cost far more.
	recent  *hdrhistogram.Histogram
	perTick bool
}

type pendingReq struct {
	op       *opStats
	service  string
	time     time.Time
	expects  bool
	answered bool
	failed   bool // an answer carried an error
	timed    bool // its latency was recorded
}

// qbIDNames are the names of the small message ids corosync's services use,
// made once: top names every such message.
var qbIDNames = func() (names [64]string) {
	for i := range names {
		names[i] = "qb_id=" + strconv.Itoa(i)
	}
	return names
}()

// opName names m's operation for the ops table.
// A request the controller relays for a Pacemaker Remote node's tool is
// counted apart, as "OP via NODE": its latency is the daemon's, while the
// tool on the remote node waits for the TLS hop too.
func opName(m *decode.Message) string {
	op := m.Op
	if op == "" {
		if m.QBID >= 0 && int(m.QBID) < len(qbIDNames) {
			op = qbIDNames[m.QBID]
		} else {
			op = "qb_id=" + strconv.FormatInt(int64(m.QBID), 10)
		}
	}
	if m.ProxiedFor != "" {
		op += " via " + m.ProxiedFor
	}
	return op
}

// isError reports whether an answer carries a Pacemaker return code or
// status other than pcmk_ok (0). An ack's status 112 (CRM_EX_INDETERMINATE)
// only says the result is still to come.
func isError(m *decode.Message) bool {
	rc := m.RC
	if m.Role == decode.RoleAck && rc == "" {
		rc = string(attr(startTag(m.XML), "status"))
	}
	if rc == "" {
		return false
	}
	n, err := strconv.Atoi(rc)
	if m.Role == decode.RoleAck && n == 112 {
		return false
	}
	return err != nil || n != 0
}

// finalAck reports whether an ack on service is the request's whole
// answer: controld, pacemakerd and schedulerd send the real reply as an
// event after it.
func finalAck(service string) bool {
	switch service {
	case "crmd", "pacemakerd", "pengine":
		return false
	}
	return true
}

func (a *Aggregator) op(node, service, op string) *opStats {
	k := opKey{node, service, op}
	st := a.ops[k]
	if st == nil {
		st = &opStats{Op: Op{Node: node, Service: service, Op: op}, perTick: a.forTop}
		a.ops[k] = st
	}
	return st
}

func (a *Aggregator) addOp(m *decode.Message) {
	switch {
	case m.Channel == capfile.ChannelRequest:
		if m.Role != decode.RoleRequest {
			return
		}
		st := a.op(m.Node, m.Service, opName(m))
		st.Requests++
		st.RequestBytes += uint64(m.Size)
		if m.QBID < 0 {
			return // a libqb control message: never answered
		}
		a.track(m, st)
	case m.ReplyTo != nil:
		a.answer(m)
	case m.Channel == capfile.ChannelResponse && m.QBID >= 0:
		st := a.op(m.Node, m.Service, opName(m))
		st.NoRequest++
		st.ReplyBytes += uint64(m.Size)
		if isError(m) {
			st.Errors++
		}
	}
}

func (a *Aggregator) answer(m *decode.Message) {
	p := a.pending[m.ReplyTo.Seq]
	var st *opStats
	if p != nil {
		st = p.op
	} else {
		// Given up or evicted here; decode still knew the request.
		op := m.ReplyTo.Op
		if op == "" {
			op = opName(m)
		}
		st = a.op(m.Node, m.Service, op)
	}
	st.ReplyBytes += uint64(m.Size)
	if isError(m) && (p == nil || !p.failed) {
		st.Errors++
		if p != nil {
			p.failed = true
		}
	}
	if p != nil && !p.answered {
		p.answered = true
		st.Answered++
		if p.expects {
			st.open--
			a.inFlight[p.service]--
		}
	}
	timed := m.Role == decode.RoleReply || (m.Role == decode.RoleAck && finalAck(m.Service))
	if timed && (p == nil || !p.timed) {
		st.record(m.ReplyTo.Latency)
		if p != nil {
			p.timed = true
		}
	}
	if p != nil && m.Role != decode.RoleAck && !(m.Role == decode.RoleReply && m.Service == "lrmd" && m.ReplyTo.Op == "lrmd_rsc_exec") {
		delete(a.pending, m.ReplyTo.Seq) // nothing else answers it
		a.release(p)
	}
}

func (st *opStats) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	if st.hist == nil {
		st.hist = hdrhistogram.New(1, latencyMax, latencyDigits)
	}
	v := min(int64(d), latencyMax)
	_ = st.hist.RecordValue(v) // v is within the histogram's range
	if st.perTick {
		if st.recent == nil {
			st.recent = hdrhistogram.New(1, latencyMax, latencyDigits)
		}
		_ = st.recent.RecordValue(v)
	}
	if st.Latencies == 0 || d < st.Min {
		st.Min = d
	}
	if d > st.Max {
		st.Max = d
	}
	st.Sum += d
	st.Latencies++
}

// Ops returns the ops table, by service and operation.
func (a *Aggregator) Ops() []Op {
	rows := make([]Op, 0, len(a.ops))
	for _, st := range a.ops {
		r := st.Op
		r.Unanswered = st.open + st.gone
		if st.hist != nil {
			r.P50 = st.percentile(50)
			r.P90 = st.percentile(90)
			r.P99 = st.percentile(99)
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y Op) int {
		return cmp.Or(cmp.Compare(x.Node, y.Node), cmp.Compare(x.Service, y.Service), cmp.Compare(x.Op, y.Op))
	})
	return rows
}

// percentile returns the latency at percentile q: the histogram's value
// for rank round(q/100 * Latencies), at most 0.1% above the true one,
// kept within the exact minimum and maximum.
func (st *opStats) percentile(q float64) time.Duration {
	v := time.Duration(st.hist.ValueAtQuantile(q))
	return min(max(v, st.Min), st.Max)
}

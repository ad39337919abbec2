package analyse

import (
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// conv builds the messages of handmade conversations.
type conv struct {
	seq  uint64
	msgs []*decode.Message
}

func (c *conv) add(m *decode.Message) *decode.Message {
	c.seq++
	m.Kind, m.Seq = decode.KindMessage, c.seq
	if m.Conn == "" {
		m.Conn = "qb-1-2-3-x"
	}
	if m.Service == "" {
		m.Service = "cib_rw"
	}
	if m.ClientPID == 0 {
		m.ClientPID = 200
	}
	m.ServerPID = 100
	c.msgs = append(c.msgs, m)
	return m
}

func (c *conv) request(at time.Duration, op string, expects bool, size int) *decode.Message {
	return c.add(&decode.Message{Time: t0.Add(at), PID: 200, Comm: "cibadmin", Channel: capfile.ChannelRequest,
		Role: decode.RoleRequest, Op: op, ExpectsReply: expects, Size: size, QBID: int32(c.seq + 1)})
}

func (c *conv) reply(at time.Duration, req *decode.Message, rc string, size int) *decode.Message {
	m := &decode.Message{Time: t0.Add(at), PID: 100, Comm: "pacemaker-based", Channel: capfile.ChannelResponse,
		Role: decode.RoleReply, Op: req.Op, RC: rc, Size: size, QBID: req.QBID}
	m.ReplyTo = &decode.Pair{Seq: req.Seq, Op: req.Op, Latency: m.Time.Sub(req.Time)}
	m.Service = req.Service
	return c.add(m)
}

func (c *conv) aggregate(cfg Config) *Aggregator {
	a := New(cfg)
	for _, m := range c.msgs {
		a.Add(m)
	}
	return a
}

func opRow(t *testing.T, a *Aggregator, service, op string) Op {
	t.Helper()
	for _, r := range a.Ops() {
		if r.Service == service && r.Op == op {
			return r
		}
	}
	t.Fatalf("no ops row %s %s in %+v", service, op, a.Ops())
	return Op{}
}

func TestOpsEdgeCases(t *testing.T) {
	var c conv
	q1 := c.request(0, "cib_query", true, 100)
	c.reply(0, q1, "0", 1000) // zero latency
	q2 := c.request(time.Millisecond, "cib_query", true, 100)
	c.reply(3*time.Millisecond, q2, "-6", 50)              // an error
	c.request(4*time.Millisecond, "cib_query", true, 100)  // never answered
	c.request(5*time.Millisecond, "cib_notify", false, 80) // expects nothing
	// A response whose request is not in the capture.
	c.add(&decode.Message{Time: t0.Add(6 * time.Millisecond), Channel: capfile.ChannelResponse, Role: decode.RoleReply,
		Op: "cib_modify", RC: "0", Size: 70, QBID: 9})
	a := c.aggregate(Config{})

	q := opRow(t, a, "cib_rw", "cib_query")
	if q.Requests != 3 || q.Answered != 2 || q.Unanswered != 1 || q.Errors != 1 || q.NoRequest != 0 || q.Latencies != 2 {
		t.Errorf("cib_query counts: %+v", q)
	}
	if q.Min != 0 || q.Max != 2*time.Millisecond || q.Sum != 2*time.Millisecond || q.P50 != 0 || q.P99 != 2*time.Millisecond {
		t.Errorf("cib_query latencies: min %v p50 %v p99 %v max %v sum %v", q.Min, q.P50, q.P99, q.Max, q.Sum)
	}
	if q.RequestBytes != 300 || q.ReplyBytes != 1050 {
		t.Errorf("cib_query bytes: %d %d", q.RequestBytes, q.ReplyBytes)
	}
	if n := opRow(t, a, "cib_rw", "cib_notify"); n.Requests != 1 || n.Unanswered != 0 || n.Answered != 0 {
		t.Errorf("cib_notify: %+v", n)
	}
	if m := opRow(t, a, "cib_rw", "cib_modify"); m.Requests != 0 || m.NoRequest != 1 || m.ReplyBytes != 70 || m.Latencies != 0 {
		t.Errorf("reply without request: %+v", m)
	}
	if r := a.Rates(); len(r) != 1 || r[0].Messages != 7 || r[0].InFlight != 1 {
		t.Errorf("rate: %+v", r)
	}
}

func TestAcks(t *testing.T) {
	var c conv
	// attrd answers with an ack only: it is the reply; status 112 is no error.
	u := c.request(0, "update", true, 100)
	u.Service = "attrd"
	ack := c.reply(time.Millisecond, u, "112", 60)
	ack.Role = decode.RoleAck
	// controld acks first, the real reply follows as an event.
	p := c.request(0, "ping", true, 100)
	p.Service = "crmd"
	ack = c.reply(time.Millisecond, p, "112", 60)
	ack.Role = decode.RoleAck
	ev := c.reply(5*time.Millisecond, p, "", 300)
	ev.Channel = capfile.ChannelEvent
	a := c.aggregate(Config{})
	if u := opRow(t, a, "attrd", "update"); u.Answered != 1 || u.Errors != 0 || u.Latencies != 1 || u.Max != time.Millisecond {
		t.Errorf("attrd update: %+v", u)
	}
	if p := opRow(t, a, "crmd", "ping"); p.Answered != 1 || p.Latencies != 1 || p.Max != 5*time.Millisecond || p.ReplyBytes != 360 {
		t.Errorf("crmd ping: %+v", p)
	}
	if cl := a.Clients(); len(cl) != 2 || cl[1].Service != "crmd" || cl[1].Replies != 2 || cl[1].Events != 0 || cl[1].BytesIn != 360 {
		t.Errorf("clients: %+v", cl)
	}
}

func TestInFlightBounded(t *testing.T) {
	var c conv
	for i := range 10 {
		c.request(time.Duration(i)*time.Millisecond, "cib_query", true, 10)
	}
	a := c.aggregate(Config{MaxInFlight: 4})
	if len(a.pending) > 4 {
		t.Errorf("%d requests tracked, cap 4", len(a.pending))
	}
	q := opRow(t, a, "cib_rw", "cib_query")
	if q.Requests != 10 || q.Unanswered != 10 {
		t.Errorf("counts: %+v", q)
	}
	if l := a.Losses(); len(l) != 1 || l[0].Cause != "in_flight_cap" || l[0].Records != 6 {
		t.Errorf("losses: %+v", l)
	}

	// Requests older than PendingTimeout are given up, not dropped.
	var d conv
	d.request(0, "cib_query", true, 10)
	d.request(time.Hour, "cib_query", true, 10)
	a = d.aggregate(Config{PendingTimeout: time.Minute})
	if len(a.pending) != 1 || len(a.Losses()) != 0 || opRow(t, a, "cib_rw", "cib_query").Unanswered != 2 {
		t.Errorf("expiry: %d tracked, losses %+v", len(a.pending), a.Losses())
	}
}

func TestBacklog(t *testing.T) {
	var c conv
	event := func(at time.Duration, rx bool) {
		c.add(&decode.Message{Time: t0.Add(at), PID: 100, Channel: capfile.ChannelEvent, Role: decode.RoleNotification,
			Op: "cib_diff_notify", RX: rx, Size: 10})
	}
	// 600 events sent; the client reads 20 after the first 100, then none.
	for i := range 600 {
		event(time.Duration(i)*time.Millisecond, false)
		if i == 99 {
			for range 20 {
				event(time.Duration(i)*time.Millisecond, true)
			}
		}
	}
	a := c.aggregate(Config{})
	cs := a.Connections()
	if len(cs) != 1 {
		t.Fatalf("connections: %+v", cs)
	}
	r := cs[0]
	// The backlog is the events sent minus 20: 500 at the 520th, 580 at the end.
	if !r.RX || r.Events != 600 || r.Read != 20 || r.MaxBacklog != 580 || !r.MaxAt.Equal(t0.Add(599*time.Millisecond)) {
		t.Errorf("row: %+v", r)
	}
	if want := t0.Add(519 * time.Millisecond); !r.OverLimit.Equal(want) {
		t.Errorf("over limit at %v, want %v", r.OverLimit, want)
	}
	if n, _ := a.Messages(); n != 600 {
		t.Errorf("%d messages counted, want the 600 sent (received copies only feed the backlog)", n)
	}

	// Without the receive side there is no backlog.
	var d conv
	d.add(&decode.Message{Time: t0, Channel: capfile.ChannelEvent, Size: 10})
	if r := d.aggregate(Config{}).Connections()[0]; r.RX || r.MaxBacklog != 0 || !r.OverLimit.IsZero() {
		t.Errorf("no rx: %+v", r)
	}
}

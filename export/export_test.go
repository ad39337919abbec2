package export

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// readCapture decodes a capture of testdata/captures.
func readCapture(t testing.TB, name string) ([]*decode.Message, capfile.SectionInfo) {
	t.Helper()
	f, err := os.Open("../testdata/captures/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(bufio.NewReader(f))
	if err != nil {
		t.Fatal(err)
	}
	r := decode.NewReader(cr, decode.Options{})
	var msgs []*decode.Message
	for {
		m, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, m)
	}
	return msgs, cr.Section()
}

// convert runs msgs through a converter into memory.
func convert(t *testing.T, cfg Config, msgs []*decode.Message) (tracetest.SpanStubs, Stats) {
	t.Helper()
	mem := tracetest.NewInMemoryExporter()
	sink := NewSink(keep{mem}, SinkOptions{Blocking: true})
	c := NewConverter(sink, cfg)
	for _, m := range msgs {
		c.Add(m)
	}
	c.Close()
	if err := sink.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := sink.Stats()
	if st.Exported != st.Ended || st.Failed != 0 {
		t.Fatalf("sink: %+v", st)
	}
	return mem.GetSpans(), c.Stats()
}

// keep keeps the spans over Shutdown, which would reset them.
type keep struct{ *tracetest.InMemoryExporter }

func (keep) Shutdown(context.Context) error { return nil }

func attr(s tracetest.SpanStub, k attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes {
		if kv.Key == k {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

func service(s tracetest.SpanStub) string {
	for _, kv := range s.Resource.Attributes() {
		if kv.Key == "service.name" {
			return kv.Value.AsString()
		}
	}
	return ""
}

func TestExportCapture(t *testing.T) {
	msgs, sec := readCapture(t, "bookworm-workload.pcapng")
	spans, st := convert(t, Config{Source: "workload", Node: sec.Host}, msgs)

	// Every request is two spans; every other message one, unless it is
	// the first answer (or the first ack) of its request.
	byTime := map[int64]time.Time{}
	requests, others := 0, 0
	answers, acks := map[uint64]int{}, map[uint64]int{}
	for _, m := range msgs {
		if m.Kind != decode.KindMessage {
			continue
		}
		byTime[int64(m.Seq)] = m.Time
		switch {
		case m.Role == decode.RoleRequest:
			requests++
		case m.ReplyTo == nil:
			others++
		case m.Role == decode.RoleAck:
			if acks[m.ReplyTo.Seq]++; acks[m.ReplyTo.Seq] > 1 {
				others++
			}
		default:
			if answers[m.ReplyTo.Seq]++; answers[m.ReplyTo.Seq] > 1 {
				others++
			}
		}
	}
	if requests == 0 || others == 0 {
		t.Fatalf("capture has %d requests and %d other messages", requests, others)
	}
	if want := 2*requests + others; len(spans) != want {
		t.Errorf("%d spans, want %d (2 x %d requests + %d notifications)", len(spans), want, requests, others)
	}
	if st.Requests != uint64(requests) || st.Notifications != uint64(others) {
		t.Errorf("stats %+v, want %d requests, %d notifications", st, requests, others)
	}

	ids := map[trace.SpanID]tracetest.SpanStub{}
	for _, s := range spans {
		if _, dup := ids[s.SpanContext.SpanID()]; dup {
			t.Errorf("span id %s twice", s.SpanContext.SpanID())
		}
		ids[s.SpanContext.SpanID()] = s
	}
	kinds := map[trace.SpanKind]int{}
	services := map[string]bool{}
	for _, s := range spans {
		kinds[s.SpanKind]++
		services[service(s)] = true
		if node, _ := attr(s, keyNode); node.AsString() != sec.Host {
			t.Errorf("%s: node %q, want %q", s.Name, node.AsString(), sec.Host)
		}
		if p := s.Parent; p.IsValid() {
			parent, ok := ids[p.SpanID()]
			if !ok {
				t.Errorf("%s %s: parent %s not exported", s.SpanKind, s.Name, p.SpanID())
				continue
			}
			if parent.SpanContext.TraceID() != s.SpanContext.TraceID() {
				t.Errorf("%s: parent in another trace", s.Name)
			}
		}
		switch s.SpanKind {
		case trace.SpanKindServer:
			client := ids[s.Parent.SpanID()]
			if client.SpanKind != trace.SpanKindClient || client.Name != s.Name {
				t.Errorf("server span %s: parent is %s %s", s.Name, client.SpanKind, client.Name)
			}
			if !client.StartTime.Equal(s.StartTime) || !client.EndTime.Equal(s.EndTime) {
				t.Errorf("%s: server %v-%v, client %v-%v", s.Name, s.StartTime, s.EndTime, client.StartTime, client.EndTime)
			}
		case trace.SpanKindClient:
			seq, _ := attr(s, keyReqSeq)
			if want := byTime[seq.AsInt64()]; !s.StartTime.Equal(want) {
				t.Errorf("%s seq %d: start %v, want the request's %v", s.Name, seq.AsInt64(), s.StartTime, want)
			}
			if rep, ok := attr(s, keyRepSeq); ok {
				if want := byTime[rep.AsInt64()]; !s.EndTime.Equal(want) {
					t.Errorf("%s seq %d: end %v, want the answer's %v", s.Name, seq.AsInt64(), s.EndTime, want)
				}
			}
		case trace.SpanKindProducer:
			if !s.StartTime.Equal(s.EndTime) {
				t.Errorf("notification %s lasts %v", s.Name, s.EndTime.Sub(s.StartTime))
			}
		}
	}
	if kinds[trace.SpanKindClient] != requests || kinds[trace.SpanKindServer] != requests {
		t.Errorf("kinds %v, want %d client and server spans", kinds, requests)
	}
	for _, want := range []string{"pacemaker-based", "pacemaker-controld", "cibadmin"} {
		if !services[want] {
			t.Errorf("no spans of service %s (have %v)", want, services)
		}
	}
	for _, cut := range []string{"pacemaker-contr", "pacemaker-sched", "pacemaker-fence", "pacemaker-remot"} {
		if services[cut] {
			t.Errorf("service %q is a cut command name", cut)
		}
	}
}

func TestExportDeterministic(t *testing.T) {
	msgs, sec := readCapture(t, "bookworm-big-cib.pcapng")
	idset := func(src string) []string {
		spans, _ := convert(t, Config{Source: src, Node: sec.Host}, msgs)
		var out []string
		for _, s := range spans {
			out = append(out, s.SpanContext.TraceID().String()+"/"+s.SpanContext.SpanID().String()+"/"+s.Parent.SpanID().String())
		}
		return out
	}
	a, b, c := idset("x"), idset("x"), idset("y")
	if strings.Join(a, " ") != strings.Join(b, " ") {
		t.Error("the same capture gave different ids")
	}
	for i := range a {
		if a[i] == c[i] {
			t.Fatalf("another source gave the same id %s", a[i])
		}
	}
}

// Hand-made conversations: a tool (pid 100) and two daemons (200, 300),
// as their connections name them.
var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func msg(seq uint64, at time.Duration, comm string, pid uint32, ch capfile.Channel, role decode.Role, op string) *decode.Message {
	m := &decode.Message{Kind: decode.KindMessage, Seq: seq, Time: t0.Add(at), PID: pid + 1000, Comm: comm,
		Channel: ch, Role: role, Op: op, Root: op, Size: 100}
	return m
}

func request(seq uint64, at time.Duration, comm string, from, to uint32, service, op string) *decode.Message {
	m := msg(seq, at, comm, from, capfile.ChannelRequest, decode.RoleRequest, op)
	m.ClientPID, m.ServerPID, m.Service, m.ExpectsReply = from, to, service, true
	m.Conn = "qb-" + service
	return m
}

func reply(seq uint64, at time.Duration, comm string, req *decode.Message, role decode.Role, rc string) *decode.Message {
	ch := capfile.ChannelResponse
	if role == decode.RoleEvent {
		ch = capfile.ChannelEvent
	}
	m := msg(seq, at, comm, req.ServerPID, ch, role, req.Op)
	m.ClientPID, m.ServerPID, m.Service, m.Conn, m.RC = req.ClientPID, req.ServerPID, req.Service, req.Conn, rc
	if role == decode.RoleAck {
		m.Root = "ack"
	}
	m.ReplyTo = &decode.Pair{Seq: req.Seq, Op: req.Op, Latency: m.Time.Sub(req.Time), By: "qb_id"}
	return m
}

func find(t *testing.T, spans tracetest.SpanStubs, kind trace.SpanKind, name string) tracetest.SpanStub {
	t.Helper()
	for _, s := range spans {
		if s.SpanKind == kind && s.Name == name {
			return s
		}
	}
	t.Fatalf("no %s span %s", kind, name)
	return tracetest.SpanStub{}
}

func TestExportStatus(t *testing.T) {
	q1 := request(1, 0, "cibadmin", 100, 200, "cib_rw", "cib_modify")
	q2 := request(3, 2*time.Second, "crm_attribute", 101, 200, "cib_rw", "cib_query")
	q3 := request(5, 4*time.Second, "crm_mon", 102, 200, "cib_rw", "cib_replace")
	last := msg(6, 5*time.Second, "pacemaker-based", 200, capfile.ChannelEvent, decode.RoleNotification, "cib_diff_notify")
	last.ClientPID, last.ServerPID, last.Service = 102, 200, "cib_rw"
	msgs := []*decode.Message{
		q1, reply(2, time.Millisecond, "pacemaker-based", q1, decode.RoleReply, "-62"),
		q2, reply(4, 2*time.Second+time.Millisecond, "pacemaker-based", q2, decode.RoleReply, "0"),
		q3, last,
	}
	spans, st := convert(t, Config{Source: "s", Node: "node1"}, msgs)
	if st.Unanswered != 1 || st.Answered != 2 || st.Errors != 2 {
		t.Errorf("stats %+v", st)
	}
	for _, kind := range []trace.SpanKind{trace.SpanKindClient, trace.SpanKindServer} {
		if s := find(t, spans, kind, "cib_modify"); s.Status.Code != codes.Error || s.Status.Description != "rc=-62" {
			t.Errorf("%s cib_modify status %+v, want error rc=-62", kind, s.Status)
		}
		if s := find(t, spans, kind, "cib_query"); s.Status.Code != codes.Unset {
			t.Errorf("%s cib_query status %+v", kind, s.Status)
		}
		s := find(t, spans, kind, "cib_replace")
		if s.Status.Code != codes.Error || s.Status.Description != "unanswered" {
			t.Errorf("%s cib_replace status %+v, want unanswered", kind, s.Status)
		}
		if !s.EndTime.Equal(last.Time) {
			t.Errorf("unanswered %s ends %v, want the last time seen %v", kind, s.EndTime, last.Time)
		}
	}
	if s := find(t, spans, trace.SpanKindServer, "cib_replace"); service(s) != "pacemaker-based" {
		t.Errorf("unanswered server span on %q", service(s))
	}
}

func TestExportAck(t *testing.T) {
	q := request(1, 0, "crmadmin", 100, 300, "crmd", "ping")
	ack := reply(2, time.Millisecond, "pacemaker-contr", q, decode.RoleAck, "")
	ev := reply(3, 5*time.Millisecond, "pacemaker-contr", q, decode.RoleEvent, "")
	q2 := request(4, time.Second, "crmadmin", 100, 300, "crmd", "node-info")
	ack2 := reply(5, time.Second+time.Millisecond, "pacemaker-contr", q2, decode.RoleAck, "")
	later := request(6, time.Minute, "cibadmin", 101, 200, "cib_rw", "cib_query")
	later.ExpectsReply = false
	spans, _ := convert(t, Config{Source: "a", Node: "n", AckWait: time.Second}, []*decode.Message{q, ack, ev, q2, ack2, later})
	c := find(t, spans, trace.SpanKindClient, "ping")
	if !c.EndTime.Equal(ev.Time) {
		t.Errorf("ping ends %v, want the event's %v", c.EndTime, ev.Time)
	}
	if len(c.Events) != 1 || c.Events[0].Name != "ack" || !c.Events[0].Time.Equal(ack.Time) {
		t.Errorf("ping events %+v, want the ack", c.Events)
	}
	if s := find(t, spans, trace.SpanKindServer, "ping"); service(s) != "pacemaker-controld" {
		t.Errorf("server service %q, want pacemaker-controld", service(s))
	}
	n := find(t, spans, trace.SpanKindClient, "node-info")
	if !n.EndTime.Equal(ack2.Time) || n.Status.Code != codes.Unset {
		t.Errorf("node-info ends %v (%+v), want the ack's %v", n.EndTime, n.Status, ack2.Time)
	}
	if len(spans) != 6 {
		t.Errorf("%d spans, want 6", len(spans))
	}
}

func TestExportTraces(t *testing.T) {
	// crm_attribute asks attrd; attrd, within the window, asks based; based
	// notifies the controller, which asks the scheduler. Later, the tool's
	// second request joins its conversation; much later a request is a
	// trace of its own.
	q1 := request(1, 0, "crm_attribute", 100, 400, "attrd", "update")
	r1 := reply(2, time.Millisecond, "pacemaker-attrd", q1, decode.RoleReply, "0")
	q2 := request(3, 2*time.Millisecond, "pacemaker-attrd", 400, 200, "cib_rw", "cib_modify")
	r2 := reply(4, 3*time.Millisecond, "pacemaker-based", q2, decode.RoleReply, "0")
	n := msg(5, 4*time.Millisecond, "pacemaker-based", 200, capfile.ChannelEvent, decode.RoleNotification, "cib_diff_notify")
	n.ClientPID, n.ServerPID, n.Service = 300, 200, "cib_rw"
	q3 := request(6, 6*time.Millisecond, "pacemaker-contr", 300, 500, "pengine", "pe_calc")
	r3 := reply(7, 9*time.Millisecond, "pacemaker-sched", q3, decode.RoleReply, "0")
	q4 := request(8, 500*time.Millisecond, "crm_attribute", 100, 400, "attrd", "query")
	r4 := reply(9, 501*time.Millisecond, "pacemaker-attrd", q4, decode.RoleReply, "0")
	q5 := request(10, 10*time.Second, "pacemaker-contr", 300, 500, "pengine", "pe_calc")
	q5.Op = "pe_calc_later"
	r5 := reply(11, 10*time.Second+time.Millisecond, "pacemaker-sched", q5, decode.RoleReply, "0")
	spans, st := convert(t, Config{Source: "t", Node: "n"}, []*decode.Message{q1, r1, q2, r2, n, q3, r3, q4, r4, q5, r5})
	if st.Traces != 2 {
		t.Errorf("%d traces, want 2", st.Traces)
	}
	root := find(t, spans, trace.SpanKindClient, "update")
	if root.Parent.IsValid() {
		t.Error("the tool's first request has a parent")
	}
	tid := root.SpanContext.TraceID()
	parentOf := func(kind trace.SpanKind, name string) tracetest.SpanStub {
		s := find(t, spans, kind, name)
		if s.SpanContext.TraceID() != tid {
			t.Errorf("%s %s is in another trace", kind, name)
		}
		for _, p := range spans {
			if p.SpanContext.SpanID() == s.Parent.SpanID() {
				return p
			}
		}
		return tracetest.SpanStub{}
	}
	if p := parentOf(trace.SpanKindClient, "cib_modify"); p.SpanKind != trace.SpanKindServer || p.Name != "update" {
		t.Errorf("attrd's cib_modify has parent %s %s, want attrd's update SERVER span", p.SpanKind, p.Name)
	}
	if p := parentOf(trace.SpanKindProducer, "cib_diff_notify"); p.SpanKind != trace.SpanKindServer || p.Name != "cib_modify" {
		t.Errorf("the notification has parent %s %s, want based's cib_modify SERVER span", p.SpanKind, p.Name)
	}
	if p := parentOf(trace.SpanKindClient, "pe_calc"); p.SpanKind != trace.SpanKindProducer {
		t.Errorf("pe_calc has parent %s %s, want the notification", p.SpanKind, p.Name)
	}
	if s := find(t, spans, trace.SpanKindClient, "query"); s.Parent.IsValid() || s.SpanContext.TraceID() != tid {
		t.Error("the tool's second request is not a root of its conversation's trace")
	}
	if s := find(t, spans, trace.SpanKindClient, "pe_calc_later"); s.SpanContext.TraceID() == tid || s.Parent.IsValid() {
		t.Error("a request long after is in the change's trace")
	}
}

func TestExportJSON(t *testing.T) {
	var b strings.Builder
	sink := NewSink(NewJSONExporter(&b), SinkOptions{Blocking: true})
	c := NewConverter(sink, Config{Source: "j", Node: "n"})
	q := request(1, 0, "cibadmin", 100, 200, "cib_rw", "cib_query")
	c.Add(q)
	c.Add(reply(2, time.Millisecond, "pacemaker-based", q, decode.RoleReply, "0"))
	c.Close()
	if err := sink.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for _, want := range []string{`"kind":"server"`, `"service":"pacemaker-based"`, `"start":"2026-01-02T03:04:05Z"`,
		`"end":"2026-01-02T03:04:05.001Z"`, `"rpc.method":"cib_query"`, `"pcmk.rc":"0"`} {
		if !strings.Contains(lines[0], want) {
			t.Errorf("no %s in %s", want, lines[0])
		}
	}
}

var _ sdktrace.SpanExporter = (*JSONExporter)(nil)

func TestExportNack(t *testing.T) {
	q := request(1, 0, "crmadmin", 100, 300, "crmd", "ping")
	nack := reply(2, time.Millisecond, "pacemaker-contr", q, decode.RoleAck, "")
	nack.Root = "nack"
	mem := tracetest.NewInMemoryExporter()
	sink := NewSink(keep{mem}, SinkOptions{Blocking: true})
	c := NewConverter(sink, Config{Source: "n", Node: "n"})
	c.Add(q)
	c.Add(nack)
	sink.proc.ForceFlush(context.Background())
	// Ended at the nack, before the converter closes.
	s := find(t, mem.GetSpans(), trace.SpanKindClient, "ping")
	if !s.EndTime.Equal(nack.Time) || s.Status.Code != codes.Error || s.Status.Description != "nack" {
		t.Errorf("ping ends %v with %+v, want the nack's %v, error nack", s.EndTime, s.Status, nack.Time)
	}
	c.Close()
	sink.Shutdown(context.Background())
}

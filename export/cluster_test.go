package export

import (
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// TestExportAcrossNodes follows a CIB change over three nodes of a merged
// capture: cibadmin's cib_modify on node1, based's CPG send, its delivery
// on every node, and what the deliveries cause on node2 and node3. With
// the copies of the CPG message tied together (rule 1) it is one trace;
// without, the other nodes' parts are traces of their own.
func TestExportAcrossNodes(t *testing.T) {
	ms := time.Millisecond
	node := map[uint64]string{}
	key := map[uint64]string{}
	var msgs []*decode.Message
	add := func(n string, m *decode.Message) *decode.Message {
		node[m.Seq] = n
		msgs = append(msgs, m)
		return m
	}
	deliver := func(seq uint64, at time.Duration, n string) {
		m := msg(seq, at, "corosync", 5, capfile.ChannelEvent, decode.RoleEvent, "")
		m.ClientPID, m.ServerPID, m.Service, m.QBID = 10, 5, "cpg", 5
		key[seq] = "cpg:node1:42"
		add(n, m)
	}
	notify := func(seq uint64, at time.Duration, n string) {
		m := msg(seq, at, "pacemaker-based", 10, capfile.ChannelEvent, decode.RoleNotification, "cib_diff_notify")
		m.ClientPID, m.ServerPID, m.Service = 30, 10, "cib_rw"
		add(n, m)
	}
	q := add("node1", request(1, 0, "cibadmin", 100, 10, "cib_rw", "cib_modify"))
	send := add("node1", request(2, ms/10, "pacemaker-based", 10, 5, "cpg", ""))
	send.ExpectsReply, send.QBID = false, 2
	key[2] = "cpg:node1:42"
	deliver(3, 3*ms/10, "node1")
	deliver(4, 5*ms/10, "node2")
	deliver(5, 6*ms/10, "node3")
	add("node1", reply(6, ms, "pacemaker-based", q, decode.RoleReply, "0"))
	notify(7, ms, "node2")
	notify(8, 12*ms/10, "node3")
	exec := add("node2", request(9, 2*ms, "pacemaker-contr", 30, 40, "lrmd", "lrmd_rsc_exec"))
	add("node2", reply(10, 3*ms, "pacemaker-execd", exec, decode.RoleReply, "0"))

	nodeOf := func(m *decode.Message) string { return node[m.Seq] }
	keyOf := func(m *decode.Message) string { return key[m.Seq] }
	spans, st := convert(t, Config{Source: "merged", NodeOf: nodeOf, ClusterMsgOf: keyOf}, msgs)
	if st.Traces != 1 {
		t.Errorf("%d traces, want 1", st.Traces)
	}
	nodes := map[string]bool{}
	for _, s := range spans {
		if s.SpanContext.TraceID() != spans[0].SpanContext.TraceID() {
			t.Errorf("%s %s on %v is in another trace", s.SpanKind, s.Name, s.Resource)
		}
		v, _ := attr(s, keyNode)
		nodes[v.AsString()] = true
	}
	if len(nodes) != 3 {
		t.Errorf("the trace spans nodes %v, want 3", nodes)
	}
	sendSpan := find(t, spans, trace.SpanKindClient, "cpg id=2")
	for _, s := range spans {
		if s.SpanKind == trace.SpanKindProducer && s.Name == "cpg id=5" && s.Parent.SpanID() != sendSpan.SpanContext.SpanID() {
			t.Errorf("a delivery's parent is %s, want the CPG send %s", s.Parent.SpanID(), sendSpan.SpanContext.SpanID())
		}
	}
	if s := find(t, spans, trace.SpanKindServer, "lrmd_rsc_exec"); service(s) != "pacemaker-execd" {
		t.Errorf("node2's execd span on %q", service(s))
	}

	_, st = convert(t, Config{Source: "merged", NodeOf: nodeOf}, msgs)
	if st.Traces < 3 {
		t.Errorf("without the CPG identity: %d traces, want one per node at least", st.Traces)
	}
}

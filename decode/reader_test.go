package decode

import (
	"errors"
	"testing"
)

// checkWants compares decoded messages with a scenario's expectations and
// the invariants every generated conversation must meet: nothing fails to
// decode, every Pacemaker message has an operation, every request that
// expects a reply gets one.
func checkWants(t *testing.T, msgs []*Message, wants []want) {
	t.Helper()
	bySeq := map[uint64]*Message{}
	answered := map[uint64]bool{}
	for _, m := range msgs {
		if m.Kind != KindMessage {
			continue
		}
		if _, dup := bySeq[m.Seq]; dup {
			t.Errorf("seq %d decoded twice", m.Seq)
		}
		bySeq[m.Seq] = m
		if m.ReplyTo != nil {
			answered[m.ReplyTo.Seq] = true
		}
	}
	for _, w := range wants {
		m := bySeq[w.seq]
		if m == nil {
			t.Errorf("%v: no message", w)
			continue
		}
		if w.err != nil {
			if !errors.Is(m.Err, w.err) {
				t.Errorf("%v: error %v, want %v", w, m.Err, w.err)
			}
			continue
		}
		if m.Err != nil {
			t.Errorf("%v: %v", w, m.Err)
		}
		if w.op != "" && m.Op != w.op {
			t.Errorf("%v: op %q", w, m.Op)
		}
		if m.Role != w.role {
			t.Errorf("%v: role %v", w, m.Role)
		}
		if m.ExpectsReply != w.expects {
			t.Errorf("%v: expects reply %v", w, m.ExpectsReply)
		}
		switch {
		case w.replyTo == 0 && m.ReplyTo != nil:
			t.Errorf("%v: paired with seq %d by %s", w, m.ReplyTo.Seq, m.ReplyTo.By)
		case w.replyTo != 0 && m.ReplyTo == nil:
			t.Errorf("%v: not paired, want seq %d", w, w.replyTo)
		case w.replyTo != 0 && (m.ReplyTo.Seq != w.replyTo || m.ReplyTo.By != w.by):
			t.Errorf("%v: paired with seq %d by %s, want seq %d by %s", w, m.ReplyTo.Seq, m.ReplyTo.By, w.replyTo, w.by)
		case m.ReplyTo != nil && m.ReplyTo.Latency < 0:
			t.Errorf("%v: latency %v", w, m.ReplyTo.Latency)
		}
		if w.parts != 0 && m.Parts != w.parts {
			t.Errorf("%v: %d parts, want %d", w, m.Parts, w.parts)
		}
		if m.Compressed != w.compressed {
			t.Errorf("%v: compressed %v", w, m.Compressed)
		}
		if w.xmlBytes != 0 && (m.XMLBytes != w.xmlBytes || len(m.XML) != w.xmlBytes) {
			t.Errorf("%v: xml_bytes %d, %d bytes of XML, want %d", w, m.XMLBytes, len(m.XML), w.xmlBytes)
		}
	}
	for _, m := range msgs {
		if m.Kind != KindMessage {
			continue
		}
		if m.Err != nil {
			t.Errorf("seq %d: %v", m.Seq, m.Err)
		}
		if m.Dialect != DialectAuto && (m.Op == "" || m.Op == m.Root && m.Role == RoleRequest) {
			t.Errorf("seq %d: operation not named (op %q, root %q)", m.Seq, m.Op, m.Root)
		}
		if m.ExpectsReply && !answered[m.Seq] {
			t.Errorf("seq %d %s: expects a reply, none paired", m.Seq, m.Op)
		}
	}
}

func TestGeneratedConversations(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.desc, func(t *testing.T) {
			g := newGen(t)
			wants := sc.build(g)
			msgs, st := decodeAll(t, g.recs, Options{})
			checkWants(t, msgs, wants)
			if st.Unanswered != sc.unanswered {
				t.Errorf("%d requests unanswered, want %d", st.Unanswered, sc.unanswered)
			}
			if st.Errors != 0 {
				t.Errorf("%d errors", st.Errors)
			}
		})
	}
}

// TestGeneratedBusyNode decodes every scenario from one capture, with the
// connections of several scenarios open at once.
func TestGeneratedBusyNode(t *testing.T) {
	g := newGen(t)
	wants := allScenarios(g)
	msgs, st := decodeAll(t, g.recs, Options{})
	checkWants(t, msgs, wants)
	if st.Requests == 0 || st.Answered != st.Requests || st.Unanswered != 0 {
		t.Errorf("stats %+v", st)
	}
}

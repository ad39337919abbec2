package replay

import (
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

func TestCaptureAdd(t *testing.T) {
	msgs := cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB)
	// a notification on the same connection is not part of any exchange
	msgs = append(msgs, wire{"qb-54-81-12-aaaaaa", "cib_rw", "", capfile.ChannelEvent, 69, qbipc.FlagServerEvent,
		`<notify t="cib_notify" subt="cib_diff_notify" cib_op="cib_modify" cib_rc="0"/>`, time.Millisecond})
	c := recording(t, msgs)
	if len(c.Conversations) != 1 {
		t.Fatalf("%d conversations", len(c.Conversations))
	}
	cv := c.Conversations[0]
	if cv.Service != "cib_rw" || cv.Comm != "cibadmin" || cv.ClientPID != 81 || cv.PID != 1081 || cv.Dialect != qbipc.DialectA || cv.Daemon() {
		t.Errorf("conversation %+v", cv)
	}
	if len(cv.Exchanges) != 2 {
		t.Fatalf("%d exchanges", len(cv.Exchanges))
	}
	reg, q := cv.Exchanges[0], cv.Exchanges[1]
	if reg.Request.Op != "register" || reg.Response == nil || len(reg.Events) != 0 || reg.Class != ClassRead {
		t.Errorf("register exchange %+v", reg)
	}
	if q.Request.Op != "cib_query" || q.Response != nil || len(q.Events) != 1 || q.Events[0].Root != "cib-reply" {
		t.Errorf("query exchange %+v", q)
	}
	if d := q.RecordedLatency(); d != 200*time.Microsecond {
		t.Errorf("query latency %v", d)
	}
}

func TestPlan(t *testing.T) {
	var msgs []wire
	msgs = append(msgs, cibadminQuery("qb-54-81-12-aaaaaa", 10*time.Millisecond, "rec-client-0001", testCIB)...)
	msgs = append(msgs, crmAttributeSet("qb-54-90-12-cccccc", 0, "rec-client-0002")...)
	c := recording(t, msgs)
	// A daemon client and a corosync connection, added as decoded messages.
	c.Add(&decode.Message{Kind: decode.KindMessage, Seq: 100, Time: t0, Channel: capfile.ChannelRequest, Role: decode.RoleRequest,
		Service: "cib_shm", Conn: "qb-54-59-20-eeeeee", ClientPID: 59, Comm: "pacemaker-contr", Op: "cib_modify", Dialect: decode.DialectA})
	c.Add(&decode.Message{Kind: decode.KindMessage, Seq: 101, Time: t0, Channel: capfile.ChannelRequest, Role: decode.RoleRequest,
		Service: "cmap", Conn: "qb-30-54-21-ffffff", ClientPID: 54, Comm: "pacemaker-based", Op: "", Dialect: decode.DialectA})

	ops := func(steps []Step) []string {
		var out []string
		for _, s := range steps {
			x := s.Exchange.Request.Op
			if s.Refused {
				x += "(refused)"
			}
			out = append(out, x)
		}
		return out
	}
	tests := []struct {
		desc string
		opts Options
		want []string
		sk   Skipped
	}{
		{"default: time order, writes refused", Options{},
			[]string{"register", "cib_modify(refused)", "register", "cib_query"}, Skipped{NotPacemaker: 1, Daemons: 1}},
		{"writes allowed", Options{AllowWrites: true},
			[]string{"register", "cib_modify", "register", "cib_query"}, Skipped{NotPacemaker: 1, Daemons: 1}},
		{"all clients", Options{AllClients: true},
			[]string{"register", "cib_modify(refused)", "cib_modify(refused)", "register", "cib_query"}, Skipped{NotPacemaker: 1}},
		{"op filter keeps the sign-on", Options{Ops: []string{"cib_query"}},
			[]string{"register", "cib_query"}, Skipped{NotPacemaker: 1, Daemons: 1, Filtered: 1}},
		{"pid filter: the client as the server saw it", Options{PIDs: []uint32{90}},
			[]string{"register", "cib_modify(refused)"}, Skipped{NotPacemaker: 1, Daemons: 1, Filtered: 1}},
		{"pid filter: the client's recorded pid", Options{PIDs: []uint32{1081}},
			[]string{"register", "cib_query"}, Skipped{NotPacemaker: 1, Daemons: 1, Filtered: 1}},
		{"connection filter", Options{Conns: []string{"qb-54-81-12-aaaaaa"}},
			[]string{"register", "cib_query"}, Skipped{NotPacemaker: 1, Daemons: 1, Filtered: 1}},
		{"service filter", Options{Services: []string{"attrd"}},
			nil, Skipped{NotPacemaker: 1, Daemons: 1, Filtered: 2}},
	}
	for _, tt := range tests {
		steps, sk := Plan(c, tt.opts)
		if got := ops(steps); !equalStrings(got, tt.want) || sk != tt.sk {
			t.Errorf("%s: %v %+v, want %v %+v", tt.desc, got, sk, tt.want, tt.sk)
		}
	}
	steps, _ := Plan(c, Options{})
	if steps[2].Offset != 10*time.Millisecond {
		t.Errorf("offset of the third step %v", steps[2].Offset)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

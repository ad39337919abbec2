package decode

import (
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// TestGeneratedPendingBounds checks that requests waiting for replies are
// given up by count, by age and by disconnection, and counted.
func TestGeneratedPendingBounds(t *testing.T) {
	for _, tc := range []struct {
		desc       string
		opts       Options
		build      func(g *gen) (late uint64) // returns the Seq of a reply that must stay unpaired, or 0
		unanswered uint64
	}{
		{desc: "over MaxPending the oldest requests are given up", opts: Options{MaxPending: 2},
			build: func(g *gen) uint64 {
				c := g.connect("attrd", 10, "attrd_updater", 500, "pacemaker-attrd", DialectA)
				var ids []int32
				for range 5 {
					id, _ := c.request(xmlAttrdQuery, pcmk.FlagClientResponse)
					ids = append(ids, id)
				}
				late := c.response(ids[0], xmlAttrdReply, 0)
				for _, id := range ids[3:] {
					c.response(id, xmlAttrdReply, 0)
				}
				return late
			}, unanswered: 3},
		{desc: "after PendingTimeout a request is given up", opts: Options{PendingTimeout: time.Second},
			build: func(g *gen) uint64 {
				c := g.connect("attrd", 10, "attrd_updater", 500, "pacemaker-attrd", DialectA)
				id, _ := c.request(xmlAttrdQuery, pcmk.FlagClientResponse)
				g.tick(2 * time.Second)
				return c.response(id, xmlAttrdReply, 0)
			}, unanswered: 1},
		{desc: "a disconnect gives up the connection's requests", opts: Options{},
			build: func(g *gen) uint64 {
				c := g.connect("crmd", 10, "crmadmin", 400, "pacemaker-controld", DialectA)
				c.request(xmlCtrlRequest("create_request_adv", "crmd", "ping", "ping-x-1-1", "crmd", "10_crmadmin", "", ""), 0)
				c.disconnect()
				return 0
			}, unanswered: 1},
		{desc: "the capture ends with requests waiting", opts: Options{},
			build: func(g *gen) uint64 {
				c := g.connect("pengine", 400, "pacemaker-contr", 700, "pacemaker-schedul", DialectB)
				c.request(xmlCtrlRequest("message", "pengine", "pe_calc", "pe_calc-dc-1-1", "pengine", "dc", "", ""), 0)
				return 0
			}, unanswered: 1},
		{desc: "hello and notification subscriptions expect nothing", opts: Options{},
			build: func(g *gen) uint64 {
				c := g.connect("crmd", 10, "crm_node", 400, "pacemaker-controld", DialectA)
				c.request(xmlCtrlRequest("create_request_adv", "crmd", "hello", "hello-x-1-1", "crmd", "10", "", xmlHelloBody), 0)
				cib := g.connect("cib_rw", 10, "crm_node", 567, "pacemaker-based", DialectA)
				cib.request(`<cib-callback t="cib" cib_op="cib_notify" cib_notify_type="cib_diff_notify" cib_notify_activate="1"/>`, 0)
				st := g.connect("stonith-ng", 10, "crm_node", 300, "pacemaker-fenced", DialectA)
				st.request(`<stonith_command t="stonith-ng" st_op="st_notify" st_notify_activate="st_notify_fence"/>`, 0)
				return 0
			}, unanswered: 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			g := newGen(t)
			late := tc.build(g)
			msgs, st := decodeAll(t, g.recs, tc.opts)
			if st.Unanswered != tc.unanswered {
				t.Errorf("%d unanswered, want %d (%+v)", st.Unanswered, tc.unanswered, st)
			}
			for _, m := range msgs {
				if m.Seq == late && m.ReplyTo != nil {
					t.Errorf("seq %d paired with a request given up", m.Seq)
				}
			}
		})
	}
}

// TestGeneratedPairingMemory checks that a long capture does not keep
// finished requests: the pairer's tables shrink back.
func TestGeneratedPairingMemory(t *testing.T) {
	g := newGen(t)
	c := g.connect("cib_shm", 400, "pacemaker-contr", 567, "pacemaker-based", DialectA)
	for i := range 5000 {
		_, _ = c.request(xmlCibQuery(uuidCtrl, i+2, 256), 0)
		c.event(xmlCibReply("cib_query", i+2, uuidCtrl, ""), pcmk.FlagServerFree)
	}
	r := NewReader(&sliceSource{recs: g.recs}, Options{})
	for range len(g.recs) - 1 {
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
	}
	for _, cp := range r.pairs.conns {
		if cp.live != 0 || len(cp.byQBID) != 0 || len(cp.byKey) != 0 || len(cp.list) > 64 {
			t.Errorf("connection %s: %d waiting, %d+%d keys, %d listed", cp.key.conn, cp.live, len(cp.byQBID), len(cp.byKey), len(cp.list))
		}
	}
	if n := len(r.pairs.order) - r.pairs.head; n > 2048 {
		t.Errorf("%d requests kept for expiry", n)
	}
}

func TestFilter(t *testing.T) {
	g := newGen(t)
	allScenarios(g)
	g.add(&capfile.Record{Kind: capfile.KindLoss, Lost: 3, Cause: capfile.LossRingFull})
	all, _ := decodeAll(t, g.recs, Options{})
	count := func(f Filter) (n int, loss int) {
		msgs, _ := decodeAll(t, g.recs, Options{Filter: f})
		for _, m := range msgs {
			if m.Kind == KindLoss {
				loss++
			} else {
				n++
			}
		}
		return n, loss
	}
	countAll := func(keep func(m *Message) bool) (n int) {
		for _, m := range all {
			if m.Kind == KindMessage && keep(m) {
				n++
			}
		}
		return n
	}
	mid := genEpoch.Add(50 * time.Millisecond)
	for _, tc := range []struct {
		desc   string
		filter Filter
		keep   func(m *Message) bool
		loss   int
	}{
		{"service", Filter{Services: []string{"attrd"}}, func(m *Message) bool { return m.Service == "attrd" }, 1},
		{"op matches replies through their request", Filter{Ops: []string{"ping"}},
			func(m *Message) bool { return m.Op == "ping" || (m.ReplyTo != nil && m.ReplyTo.Op == "ping") }, 1},
		{"pid of either side", Filter{PIDs: []uint32{567}},
			func(m *Message) bool { return m.PID == 567 || m.ClientPID == 567 || m.ServerPID == 567 }, 1},
		{"channel", Filter{Channels: []capfile.Channel{capfile.ChannelEvent}},
			func(m *Message) bool { return m.Channel == capfile.ChannelEvent }, 1},
		{"time window", Filter{Since: genEpoch.Add(time.Millisecond), Until: mid},
			func(m *Message) bool { return !m.Time.Before(genEpoch.Add(time.Millisecond)) && m.Time.Before(mid) }, 0},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			n, loss := count(tc.filter)
			if want := countAll(tc.keep); n != want || n == 0 {
				t.Errorf("%d messages, want %d", n, want)
			}
			if loss != tc.loss {
				t.Errorf("%d loss records, want %d", loss, tc.loss)
			}
		})
	}
}

// A connection that goes away with one request answered and one not, then
// a repeated qb id on another connection: neither may crash the pairer or
// pair a reply with another connection's request.
func TestPairingCloseAndReuse(t *testing.T) {
	var st Stats
	pr := newPairer(1024, time.Minute, &st)
	t0 := time.Unix(1000, 0)
	req := func(seq uint64, conn string, id int32) *Message {
		return &Message{Kind: KindMessage, Seq: seq, Time: t0, Conn: conn, Service: "cib_rw", Channel: capfile.ChannelRequest,
			QBID: id, Dialect: DialectA, Flags: pcmk.FlagClientResponse, Op: "cib_query"}
	}
	resp := func(seq uint64, conn string, id int32) *Message {
		return &Message{Kind: KindMessage, Seq: seq, Time: t0.Add(time.Millisecond), Conn: conn, Service: "cib_rw",
			Channel: capfile.ChannelResponse, QBID: id, Dialect: DialectA, Root: "cib_reply"}
	}
	pr.pair(req(1, "a", 1))
	pr.pair(req(2, "a", 2))
	pr.pair(resp(3, "a", 2))
	pr.closeConn("a") // request 1 still waits: given up, no crash

	pr.pair(req(4, "b", 7))
	pr.pair(req(5, "b", 7)) // the same qb id again: the first is given up
	pr.pair(req(6, "c", 9))
	r := resp(7, "c", 9)
	pr.pair(r)
	if r.ReplyTo == nil || r.ReplyTo.Seq != 6 {
		t.Fatalf("reply on c paired with %+v, want request 6", r.ReplyTo)
	}
	r = resp(8, "b", 7)
	pr.pair(r)
	if r.ReplyTo == nil || r.ReplyTo.Seq != 5 {
		t.Fatalf("reply on b paired with %+v, want request 5", r.ReplyTo)
	}
}

// TestPendingQueueBounded checks that a request that waits long does not
// keep the requests answered after it in memory.
func TestPendingQueueBounded(t *testing.T) {
	g := newGen(t)
	slow := g.connect("attrd", 10, "attrd_updater", 500, "pacemaker-attrd", DialectA)
	slow.request(xmlAttrdQuery, pcmk.FlagClientResponse) // never answered
	c := g.connect("attrd", 11, "attrd_updater", 500, "pacemaker-attrd", DialectA)
	for range 5000 {
		id, _ := c.request(xmlAttrdQuery, pcmk.FlagClientResponse)
		c.response(id, xmlAttrdReply, 0)
	}
	r := NewReader(&sliceSource{recs: g.recs}, Options{})
	for {
		if _, err := r.Next(); err != nil {
			break
		}
		if n := len(r.pairs.order) - r.pairs.head; n > 2100 {
			t.Fatalf("%d requests queued, %d of them waiting", n, r.pairs.live)
		}
	}
}

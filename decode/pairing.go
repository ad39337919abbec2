package decode

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// pending is a request waiting for its reply.
type pending struct {
	seq       uint64
	time      time.Time
	op        string
	cp        *connPairs
	qbID      int32
	byQB      bool       // registered in cp.byQBID
	keys      [2]pairKey // registered in cp.byKey
	wantEvent bool       // a reply on the event channel is still due
	wantOrder bool       // corosync: a later response with the same id answers it
	optional  bool       // a reply may never come (corosync: cpg mcast has none on success)
	answered  bool
	done      bool
	refs      uint8 // lists holding it: the pairer's order and its connection's list
}

// connKey separates the sending side's view of a connection from the
// receive-side view (records with FlagRX), so each pairs with itself.
type connKey struct {
	conn string
	rx   bool
}

// pairKey is what an event reply echoes of its request: a call id of one
// daemon's kind, or a reference. A struct, not a joined string, so that
// registering a request allocates no key.
type pairKey struct {
	kind keyKind
	id   string
}

type keyKind uint8

const (
	keyNone   keyKind = iota
	keyCIB            // cib_callid
	keyFencer         // st_callid
	keyExecd          // lrmd_callid
	keyRef            // reference
)

type connPairs struct {
	pr     *pairer
	key    connKey
	byQBID map[int32]*pending
	byKey  map[pairKey]*pending
	list   []*pending // oldest first; done entries are skipped
	live   int
}

// pairer matches replies to requests (docs/protocol.md 7). Requests wait at
// most timeout (capture time) and at most max of them at once; older ones
// are given up as unanswered, so memory stays bounded.
type pairer struct {
	conns   map[connKey]*connPairs
	order   []*pending // every waiting request, oldest first
	head    int
	live    int
	max     int
	timeout time.Duration
	stats   *Stats
	links   proxyLinks // proxied.go

	// spare holds connections' state that went idle, for the next
	// connection to reuse: a request and its reply would otherwise cost
	// two maps each on a connection that has one request at a time.
	spare []*connPairs
	// free holds finished requests no list holds any more, for the next
	// requests to reuse.
	free []*pending
	// none is the state of a connection with nothing waiting, looked at
	// by events to classify them.
	none connPairs
}

// maxSpare bounds pairer.spare, maxFree pairer.free. Up to maxIdleConns
// connections keep their state while nothing waits on them: a client with
// one request at a time (most are) would otherwise give its state back and
// take it again with every request.
const (
	maxSpare     = 16
	maxFree      = 1024
	maxIdleConns = 256
)

// newPending returns a zero pending, reused if one is free.
func (pr *pairer) newPending() *pending {
	if n := len(pr.free); n > 0 {
		p := pr.free[n-1]
		pr.free = pr.free[:n-1]
		return p
	}
	return new(pending)
}

// unref says that a list dropped p, which is done; once none holds it, it
// is free.
func (pr *pairer) unref(p *pending) {
	p.refs--
	if p.refs == 0 && len(pr.free) < maxFree {
		*p = pending{}
		pr.free = append(pr.free, p)
	}
}

func newPairer(max int, timeout time.Duration, stats *Stats) *pairer {
	return &pairer{conns: make(map[connKey]*connPairs), max: max, timeout: timeout, stats: stats}
}

// pair gives m its Role and, for replies, its ReplyTo.
func (pr *pairer) pair(m *Message) {
	pr.expire(m.Time)
	key := connKey{m.Conn, m.RX}
	f := m.family()
	switch m.Channel {
	case capfile.ChannelRequest:
		m.Role = RoleRequest
		pr.links.link(m)
		pr.request(key, f, m)
	case capfile.ChannelResponse:
		m.Role = RoleReply
		if m.Root == "ack" || m.Root == "nack" {
			m.Role = RoleAck
		}
		pr.response(key, f, m)
	case capfile.ChannelEvent:
		pr.event(key, f, m)
	}
}

func (pr *pairer) request(key connKey, f pcmk.Family, m *Message) {
	if m.QBID < 0 {
		return // libqb control message
	}
	var p *pending
	switch {
	case f == pcmk.FamilyCorosync || (f == pcmk.FamilyOther && m.Dialect == DialectAuto):
		// corosync message ids are types, not sequence numbers. Most of its
		// requests get a response with the same id, but not all (a
		// successful cpg mcast gets none), so a reply is welcome, not due.
		if f == pcmk.FamilyCorosync {
			p = pr.newPending()
			p.wantOrder, p.optional = true, true
		}
	default:
		wantEvent := wantsEventReply(f, m.Op, m.Flags)
		m.ExpectsReply = m.Flags&pcmk.FlagClientResponse != 0 || wantEvent
		if m.ExpectsReply {
			p = pr.newPending()
			p.wantEvent = wantEvent
		}
	}
	if p == nil {
		return
	}
	p.seq, p.time, p.op, p.qbID = m.Seq, m.Time, m.Op, m.QBID
	cp := pr.conn(key, true)
	p.cp = cp
	// p counts as waiting before an older request it replaces is given up,
	// so the connection's state is not dropped under it.
	cp.compact()
	cp.list = append(cp.list, p)
	cp.live++
	pr.order = append(pr.order, p)
	p.refs = 2
	pr.live++
	if m.Flags&pcmk.FlagClientResponse != 0 {
		if old := cp.byQBID[m.QBID]; old != nil {
			pr.finish(old)
		}
		cp.byQBID[m.QBID] = p
		p.byQB = true
	}
	if p.wantEvent {
		switch {
		case f == pcmk.FamilyCIB && m.CallID != "":
			pr.addKey(p, pairKey{keyCIB, m.CallID})
		case f == pcmk.FamilyFencer && m.CallID != "":
			pr.addKey(p, pairKey{keyFencer, m.CallID})
		case controllerStyle(f) && m.Reference != "":
			pr.addKey(p, pairKey{keyRef, m.Reference})
		}
	}
	if !p.optional {
		pr.stats.Requests++
	}
	if pr.live > pr.max {
		pr.expire(m.Time) // pair expired by this time already: only the bound can be passed
	}
}

func (pr *pairer) response(key connKey, f pcmk.Family, m *Message) {
	cp := pr.conns[key]
	if cp == nil {
		return
	}
	if f == pcmk.FamilyCorosync || (f == pcmk.FamilyOther && m.Dialect == DialectAuto) {
		if p := cp.oldest(func(p *pending) bool { return p.wantOrder && p.qbID == m.QBID }); p != nil {
			// Older requests of other types on this connection got no reply.
			for _, q := range cp.list {
				if q == p {
					break
				}
				if !q.done && q.wantOrder {
					pr.finish(q)
				}
			}
			pr.answer(m, p, "order")
			pr.finish(p)
		}
		return
	}
	p := cp.byQBID[m.QBID]
	if p == nil {
		return
	}
	delete(cp.byQBID, m.QBID)
	p.byQB = false
	pr.answer(m, p, "qb_id")
	switch {
	case m.Role == RoleAck && p.wantEvent:
		// controld, pacemakerd, schedulerd: the reply follows as an event
	case f == pcmk.FamilyExecd && p.op == "lrmd_rsc_exec" && m.CallID != "":
		// the execd reply carries the call id its completion will carry
		pr.addKey(p, pairKey{keyExecd, m.CallID})
		p.wantEvent = true
	default:
		pr.finish(p)
	}
}

func (pr *pairer) event(key connKey, f pcmk.Family, m *Message) {
	if m.Flags&pcmk.FlagProxiedRelayResponse != 0 && pr.relayed(key, m) {
		return
	}
	if isNotification(m) {
		m.Role = RoleNotification
		return
	}
	m.Role = RoleEvent
	if m.T == "st-async-timeout-value" {
		return // a fencer hint about a pending call, not its reply
	}
	cp := pr.conns[key]
	if cp == nil {
		cp = &pr.none // nothing waiting: classify only
	}
	var p *pending
	by := ""
	switch {
	case m.CallID != "" && f == pcmk.FamilyCIB:
		p, by = cp.byKey[pairKey{keyCIB, m.CallID}], "cib_callid"
	case m.CallID != "" && f == pcmk.FamilyFencer:
		p, by = cp.byKey[pairKey{keyFencer, m.CallID}], "st_callid"
	case m.CallID != "" && f == pcmk.FamilyExecd && m.Root == "lrmd_notify" && m.Op == "lrmd_rsc_exec":
		p, by = cp.byKey[pairKey{keyExecd, m.CallID}], "lrmd_callid"
	}
	if p == nil && m.Reference != "" {
		p, by = cp.byKey[pairKey{keyRef, m.Reference}], "reference"
	}
	if p == nil && controllerStyle(f) {
		// Some controller replies carry a fresh reference: the results of
		// lrm_* requests are built as new messages (task lrm_invoke).
		// These daemons send their IPC clients no other events, so such a
		// reply answers the oldest request of that kind still waiting.
		p, by = cp.oldest(func(p *pending) bool {
			return p.wantEvent && (p.op == m.Op || freshReference(p.op))
		}), "order"
	}
	if p == nil || !p.wantEvent {
		switch {
		case m.Root == "lrmd_notify":
			m.Role = RoleNotification
		case looksLikeReply(m):
			m.Role = RoleReply // its request is not in the capture
		}
		return
	}
	if by != "lrmd_callid" {
		m.Role = RoleReply
	}
	pr.answer(m, p, by)
	pr.finish(p)
}

// freshReference reports a controller request whose reply does not echo
// its reference.
func freshReference(op string) bool {
	switch op {
	case "lrm_delete", "lrm_fail", "lrm_invoke", "probe_again":
		return true
	}
	return false
}

// looksLikeReply reports an event whose XML says it answers something.
func looksLikeReply(m *Message) bool {
	return m.Subt == "response" || m.Root == "cib-reply" || m.Root == "st-reply" || m.T == "st-reply"
}

// isNotification reports an event the receiver did not ask for.
func isNotification(m *Message) bool {
	switch m.T {
	case "cib_notify", "st_notify":
		return true
	}
	switch m.Root {
	case "notify", "st_notify":
		return true
	}
	return false
}

func (pr *pairer) answer(m *Message, p *pending, by string) {
	m.pair = Pair{Seq: p.seq, Op: p.op, Latency: m.Time.Sub(p.time), By: by}
	m.ReplyTo = &m.pair
	if !p.answered {
		p.answered = true
		if !p.optional {
			pr.stats.Answered++
		}
	}
}

func (pr *pairer) conn(key connKey, create bool) *connPairs {
	cp := pr.conns[key]
	if cp != nil && create && cp.live == 0 && len(cp.list) > 0 {
		// Idle since its last request was done: what its list still holds
		// can go (no loop over it runs now, as in finish).
		for _, p := range cp.list {
			pr.unref(p)
		}
		clear(cp.list)
		cp.list = cp.list[:0]
	}
	if cp == nil && create {
		if n := len(pr.spare); n > 0 {
			// Cleared only now: a loop over the list that finished the
			// last request of the connection may still have been running
			// when it went idle.
			cp = pr.spare[n-1]
			pr.spare[n-1] = nil
			pr.spare = pr.spare[:n-1]
			clear(cp.byQBID)
			clear(cp.byKey)
			for _, p := range cp.list {
				pr.unref(p) // done: the connection went idle
			}
			clear(cp.list)
			*cp = connPairs{pr: pr, key: key, byQBID: cp.byQBID, byKey: cp.byKey, list: cp.list[:0]}
		} else {
			cp = &connPairs{pr: pr, key: key, byQBID: make(map[int32]*pending), byKey: make(map[pairKey]*pending)}
		}
		pr.conns[key] = cp
	}
	return cp
}

func (pr *pairer) addKey(p *pending, k pairKey) {
	cp := p.cp
	if old := cp.byKey[k]; old != nil && old != p {
		pr.finish(old)
	}
	cp.byKey[k] = p
	if p.keys[0].kind == keyNone {
		p.keys[0] = k
	} else {
		p.keys[1] = k
	}
}

// finish stops waiting for p.
func (pr *pairer) finish(p *pending) {
	if p.done {
		return
	}
	p.done = true
	cp := p.cp
	if p.byQB && cp.byQBID[p.qbID] == p {
		delete(cp.byQBID, p.qbID)
	}
	for _, k := range p.keys {
		if k.kind != keyNone && cp.byKey[k] == p {
			delete(cp.byKey, k)
		}
	}
	if !p.answered && !p.optional {
		pr.stats.Unanswered++
	}
	cp.live--
	pr.live--
	if cp.live == 0 && len(pr.conns) > maxIdleConns {
		pr.drop(cp)
	}
}

// drop forgets the state of connection cp, which nothing waits on any more,
// keeping it for reuse.
func (pr *pairer) drop(cp *connPairs) {
	if pr.conns[cp.key] != cp {
		return
	}
	delete(pr.conns, cp.key)
	if len(pr.spare) < maxSpare && len(cp.list) <= 1024 {
		pr.spare = append(pr.spare, cp)
	}
}

// compact drops finished requests from cp.list once they make up most of it.
func (cp *connPairs) compact() {
	if len(cp.list) < 64 || len(cp.list) < 2*cp.live {
		return
	}
	live := cp.list[:0]
	for _, p := range cp.list {
		if !p.done {
			live = append(live, p)
		} else {
			cp.pr.unref(p)
		}
	}
	clear(cp.list[len(live):])
	cp.list = live
}

// oldest returns the oldest waiting request that ok accepts.
func (cp *connPairs) oldest(ok func(*pending) bool) *pending {
	i := 0
	for i < len(cp.list) && cp.list[i].done {
		cp.pr.unref(cp.list[i])
		i++
	}
	cp.list = cp.list[i:]
	for _, p := range cp.list {
		if !p.done && ok(p) {
			return p
		}
	}
	return nil
}

// expire gives up on requests older than the timeout, and on the oldest
// ones while more than max are waiting.
func (pr *pairer) expire(now time.Time) {
	for pr.head < len(pr.order) {
		p := pr.order[pr.head]
		if !p.done && pr.live <= pr.max && now.Sub(p.time) <= pr.timeout {
			break
		}
		pr.finish(p)
		pr.order[pr.head] = nil
		pr.head++
		pr.unref(p)
	}
	if pr.head > 1024 && pr.head > len(pr.order)/2 {
		pr.order = append(pr.order[:0], pr.order[pr.head:]...)
		pr.head = 0
	}
	// Requests answered behind one that still waits are dropped once they
	// make up most of the queue: one long wait must not hold every later
	// request (and its connection's state) until it ends.
	if n := len(pr.order) - pr.head; n > 1024 && n > 2*pr.live {
		live := pr.order[:0]
		for _, p := range pr.order[pr.head:] {
			if p != nil && !p.done {
				live = append(live, p)
			} else if p != nil {
				pr.unref(p)
			}
		}
		clear(pr.order[len(live):])
		pr.order, pr.head = live, 0
	}
}

// closeConn gives up on every request of a connection that went away.
func (pr *pairer) closeConn(conn string) {
	for _, rx := range []bool{false, true} {
		if cp := pr.conns[connKey{conn, rx}]; cp != nil {
			for _, p := range cp.list {
				pr.finish(p)
			}
			pr.drop(cp)
		}
	}
}

// closeAll gives up on every request (the capture ended).
func (pr *pairer) closeAll() {
	for _, p := range pr.order[pr.head:] {
		if p != nil {
			pr.finish(p)
		}
	}
	pr.order, pr.head = nil, 0
	for _, cp := range pr.conns {
		pr.drop(cp)
	}
}

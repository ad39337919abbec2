package decode

import (
	"bytes"
	"reflect"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// GENERATED proxied conversations (docs/remote.md): a tool on remote node
// remote1 talks to pacemaker-remoted, and the controller relays each
// request to the real daemon with the proxied flag and three attributes.

const proxyAttrsXML = ` acl_role="pacemaker-remote" acl_target="remote1" lrmd_ipc_user="remote1"`

// proxied appends the controller's attributes to a request's root element.
func proxied(xml string) string {
	for i := 0; i < len(xml); i++ {
		if xml[i] == '>' {
			if xml[i-1] == '/' {
				i--
			}
			return xml[:i] + proxyAttrsXML + xml[i:]
		}
	}
	return xml
}

const (
	xmlRemoteAttrdUpdate = `<create_attrd_op t="attrd" src="crm_attribute" attr_name="foo" task="update" attr_value="bar" attr_host="remote1" attr_is_remote="1" attr_is_private="0"/>`
	xmlStHistory         = `<stonith_command __name__="stonith_command" t="stonith-ng" st_async_id="` + uuidStonith + `" st_op="st_fence_history" st_callid="2" st_callopt="4096"><st_calldata><stonith_command __name__="stonith_command" st_target="*"/></st_calldata></stonith_command>`
)

// proxiedScenario builds, in dialect d, the remote side and the relayed side
// of cibadmin -Q, a synchronous CIB query, crm_attribute's attrd update and
// a fencer call. In dialect A the relayed replies carry fresh event ids; in
// dialect B their request's id.
func proxiedScenario(d Dialect) func(g *gen) []want {
	return func(g *gen) []want {
		relay := func(c *gconn, id int32, text string, flags Flags) uint64 {
			flags |= pcmk.FlagServerEvent | pcmk.FlagServerFree | pcmk.FlagProxiedRelayResponse
			if d == DialectB {
				return c.send(capfile.ChannelEvent, id, text, flags) // the request's id
			}
			return c.event(text, flags)
		}
		g.evIDs[52] = 1318
		rcib := g.connect("cib_rw", 27, "cibadmin", 26, "pacemaker-remot", d)
		pcib := g.connect("cib_rw", 57, "pacemaker-contr", 52, "pacemaker-based", d)
		id, rreg := rcib.request(xmlCibRegister("cibadmin"), pcmk.FlagClientResponse)
		g.tick(40 * time.Millisecond)
		pid, preg := pcib.request(proxied(xmlCibRegister("cibadmin")), pcmk.FlagProxied|pcmk.FlagClientResponse)
		g.tick(200 * time.Microsecond)
		pregReply := relay(pcib, pid, xmlCibRegisterReply(uuidCibadmin), pcmk.FlagProxied|pcmk.FlagClientResponse)
		g.tick(40 * time.Millisecond)
		rregReply := rcib.response(id, xmlCibRegisterReply(uuidCibadmin), 0)

		// asynchronous query: the daemon's reply is an event anyway
		_, rq := rcib.request(xmlCibQuery(uuidCibadmin, 2, 0), 0)
		_, pq := pcib.request(proxied(xmlCibQuery(uuidCibadmin, 2, 0)), pcmk.FlagProxied)
		pqReply := pcib.event(xmlCibReply("cib_query", 2, uuidCibadmin, smallCIB), pcmk.FlagServerFree)
		rqReply := rcib.event(xmlCibReply("cib_query", 2, uuidCibadmin, smallCIB), pcmk.FlagServerFree)

		// synchronous query
		id, rs := rcib.request(xmlCibQuery(uuidCibadmin, 3, 4352), pcmk.FlagClientResponse)
		pid, ps := pcib.request(proxied(xmlCibQuery(uuidCibadmin, 3, 4352)), pcmk.FlagProxied|pcmk.FlagClientResponse)
		psReply := relay(pcib, pid, xmlCibReply("cib_query", 3, uuidCibadmin, smallCIB), 0)
		rsReply := rcib.response(id, xmlCibReply("cib_query", 3, uuidCibadmin, smallCIB), 0)
		rcib.disconnect()
		pcib.disconnect()

		g.evIDs[55] = 0
		rat := g.connect("attrd", 28, "crm_attribute", 26, "pacemaker-remot", d)
		pat := g.connect("attrd", 57, "pacemaker-contr", 55, "pacemaker-attrd", d)
		id, ru := rat.request(xmlRemoteAttrdUpdate, pcmk.FlagClientResponse)
		pid, pu := pat.request(proxied(xmlRemoteAttrdUpdate), pcmk.FlagProxied|pcmk.FlagClientResponse)
		puAck := relay(pat, pid, xmlAck("handle_update_request", 112), pcmk.FlagClientResponse)
		ruAck := rat.response(id, xmlAck("handle_update_request", 112), 0)
		rat.disconnect()
		pat.disconnect()

		rst := g.connect("stonith-ng", 30, "stonith_admin", 26, "pacemaker-remot", d)
		pst := g.connect("stonith-ng", 57, "pacemaker-contr", 53, "pacemaker-fence", d)
		id, rh := rst.request(xmlStHistory, pcmk.FlagClientResponse)
		pid, ph := pst.request(proxied(xmlStHistory), pcmk.FlagProxied|pcmk.FlagClientResponse)
		phReply := relay(pst, pid, xmlStHistoryReply, 0)
		rhReply := rst.response(id, xmlStHistoryReply, 0)
		rst.disconnect()
		pst.disconnect()

		by := "proxied_order"
		if d == DialectB {
			by = "proxied_qb_id"
		}
		return []want{
			{seq: rreg, op: "register", role: RoleRequest, expects: true},
			{seq: preg, op: "register", role: RoleRequest, expects: true},
			{seq: pregReply, op: "register", role: RoleReply, replyTo: preg, by: by},
			{seq: rregReply, op: "register", role: RoleReply, replyTo: rreg, by: "qb_id"},
			{seq: rq, op: "cib_query", role: RoleRequest, expects: true},
			{seq: pq, op: "cib_query", role: RoleRequest, expects: true},
			{seq: pqReply, op: "cib_query", role: RoleReply, replyTo: pq, by: "cib_callid"},
			{seq: rqReply, op: "cib_query", role: RoleReply, replyTo: rq, by: "cib_callid"},
			{seq: rs, op: "cib_query", role: RoleRequest, expects: true},
			{seq: ps, op: "cib_query", role: RoleRequest, expects: true},
			{seq: psReply, op: "cib_query", role: RoleReply, replyTo: ps, by: by},
			{seq: rsReply, op: "cib_query", role: RoleReply, replyTo: rs, by: "qb_id"},
			{seq: ru, op: "update", role: RoleRequest, expects: true},
			{seq: pu, op: "update", role: RoleRequest, expects: true},
			{seq: puAck, op: "ack", role: RoleAck, replyTo: pu, by: by},
			{seq: ruAck, op: "ack", role: RoleAck, replyTo: ru, by: "qb_id"},
			{seq: rh, op: "st_fence_history", role: RoleRequest, expects: true},
			{seq: ph, op: "st_fence_history", role: RoleRequest, expects: true},
			{seq: phReply, op: "st_fence_history", role: RoleReply, replyTo: ph, by: by},
			{seq: rhReply, op: "st_fence_history", role: RoleReply, replyTo: rh, by: "qb_id"},
		}
	}
}

const xmlStHistoryReply = `<st-reply st_origin="stonith_construct_reply" t="st-reply" st_rc="0" st_op="st_fence_history" st_callid="2" st_clientid="` + uuidStonith + `" st_callopt="4096"/>`

func init() {
	scenarios = append(scenarios,
		scenario{desc: "dialect A remote node: the controller relays remote tools' requests, replies come back as relay events", name: "a-proxied", build: proxiedScenario(DialectA)},
		scenario{desc: "dialect B remote node: relay events carry their request's id", name: "b-proxied", build: proxiedScenario(DialectB)},
	)
}

// TestProxiedLinks checks that each relayed request names its remote node
// and the remote tool's request it relays, and that nothing else does.
func TestProxiedLinks(t *testing.T) {
	for _, d := range []Dialect{DialectA, DialectB} {
		g := newGen(t)
		proxiedScenario(d)(g)
		msgs, _ := decodeAll(t, g.recs, Options{})
		bySeq := map[uint64]*Message{}
		n := 0
		for _, m := range msgs {
			bySeq[m.Seq] = m
			if m.Kind != KindMessage {
				continue
			}
			isProxied := m.Role == RoleRequest && m.Flags&pcmk.FlagProxied != 0
			if !isProxied {
				if m.ProxiedFor != "" || m.Relays != 0 {
					t.Errorf("dialect %v seq %d %s: proxied_for %q relays %d on a message not relayed", d, m.Seq, m.Op, m.ProxiedFor, m.Relays)
				}
				continue
			}
			n++
			if m.ProxiedFor != "remote1" {
				t.Errorf("dialect %v seq %d %s: proxied_for %q, want remote1", d, m.Seq, m.Op, m.ProxiedFor)
			}
			orig := bySeq[m.Relays]
			if orig == nil || orig.Op != m.Op || orig.Service != m.Service || orig.Flags&pcmk.FlagProxied != 0 || orig.Comm == m.Comm {
				t.Errorf("dialect %v seq %d %s: relays %d, not the remote tool's request", d, m.Seq, m.Op, m.Relays)
			}
		}
		if n != 5 {
			t.Errorf("dialect %v: %d relayed requests, want 5", d, n)
		}
	}
}

// TestNoRelays checks that Options.NoRelays changes nothing but Relays:
// every relayed request still names its remote node.
func TestNoRelays(t *testing.T) {
	for _, d := range []Dialect{DialectA, DialectB} {
		g := newGen(t)
		proxiedScenario(d)(g)
		all, _ := decodeAll(t, g.recs, Options{RootOnly: true})
		g = newGen(t)
		proxiedScenario(d)(g)
		lean, _ := decodeAll(t, g.recs, Options{RootOnly: true, NoRelays: true})
		if len(all) != len(lean) {
			t.Fatalf("dialect %v: %d messages, %d with NoRelays", d, len(all), len(lean))
		}
		relays := 0
		for i, m := range all {
			if m.Relays != 0 {
				relays++
			}
			want := *m
			want.Relays = 0
			got := *lean[i]
			if got.ReplyTo != nil && want.ReplyTo != nil && *got.ReplyTo == *want.ReplyTo {
				got.ReplyTo, want.ReplyTo = nil, nil
			}
			got.rec, want.rec = nil, nil
			if !reflect.DeepEqual(got, want) {
				t.Errorf("dialect %v seq %d: with NoRelays\n%+v\nwant\n%+v", d, m.Seq, got, want)
			}
		}
		if relays != 5 {
			t.Errorf("dialect %v: %d requests with Relays without NoRelays, want 5", d, relays)
		}
	}
}

// TestProxiedTruncated checks that a relayed request cut after its start
// tag (as top's probes copy large messages) still names its remote node,
// with and without NoRelays.
func TestProxiedTruncated(t *testing.T) {
	for _, d := range []Dialect{DialectA, DialectB} {
		for _, opts := range []Options{{}, {RootOnly: true, NoRelays: true}} {
			g := newGen(t)
			proxiedScenario(d)(g)
			for _, r := range g.recs {
				if r.Kind != capfile.KindMessage || len(r.Data) <= pcmk.EnvelopeLen {
					continue
				}
				if end := bytes.IndexByte(r.Data[pcmk.EnvelopeLen:], '>'); end >= 0 && pcmk.EnvelopeLen+end+1 < len(r.Data) {
					r.OrigLen = uint32(len(r.Data))
					r.Data = r.Data[:pcmk.EnvelopeLen+end+1]
					r.Flags |= capfile.FlagTruncated
				}
			}
			msgs, _ := decodeAll(t, g.recs, opts)
			n := 0
			for _, m := range msgs {
				if m.Kind != KindMessage || m.Role != RoleRequest || m.Flags&pcmk.FlagProxied == 0 {
					continue
				}
				n++
				if !m.Truncated || m.ProxiedFor != "remote1" {
					t.Errorf("dialect %v %+v seq %d %s: truncated %v, proxied_for %q, want remote1", d, opts, m.Seq, m.Op, m.Truncated, m.ProxiedFor)
				}
			}
			if n != 5 {
				t.Errorf("dialect %v %+v: %d relayed requests, want 5", d, opts, n)
			}
		}
	}
}

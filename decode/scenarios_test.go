package decode

// GENERATED conversations (see testgen_test.go): each scenario writes the
// records of one documented exchange and says what the decoder must make
// of them.

import (
	"fmt"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// want is what one message must decode to, found by its Seq.
type want struct {
	seq        uint64
	op         string
	role       Role
	replyTo    uint64 // Seq of the request answered; 0 for none
	by         string // how it was paired
	expects    bool   // a request that expects a reply
	parts      int    // 0: do not check
	compressed bool
	xmlBytes   int   // 0: do not check
	err        error // sentinel the message's error wraps; nil for none
}

type scenario struct {
	desc       string
	name       string // golden file stem
	build      func(g *gen) []want
	unanswered uint64 // requests expected to stay unanswered
}

func ctrlRef(task, from string, n int) string {
	return fmt.Sprintf("%s-%s-1740830400-%d", task, from, n)
}

var scenarios = []scenario{
	{
		desc: "dialect A cibadmin -Q: sync register, async query answered by an event",
		name: "a-cibadmin-query",
		build: func(g *gen) []want {
			g.evIDs[567] = 224
			c := g.connect("cib_rw", 1234, "cibadmin", 567, "pacemaker-based", DialectA)
			id, reg := c.request(xmlCibRegister("cibadmin"), pcmk.FlagClientResponse)
			g.tick(30 * time.Microsecond)
			regReply := c.response(id, xmlCibRegisterReply(uuidCibadmin), pcmk.FlagClientResponse)
			_, query := c.request(xmlCibQuery(uuidCibadmin, 2, 0), 0)
			g.tick(200 * time.Microsecond)
			reply := c.event(xmlCibReply("cib_query", 2, uuidCibadmin, smallCIB), pcmk.FlagServerFree)
			c.disconnect()
			return []want{
				{seq: reg, op: "register", role: RoleRequest, expects: true},
				{seq: regReply, op: "register", role: RoleReply, replyTo: reg, by: "qb_id"},
				{seq: query, op: "cib_query", role: RoleRequest, expects: true},
				{seq: reply, op: "cib_query", role: RoleReply, replyTo: query, by: "cib_callid"},
			}
		},
	},
	{
		desc: "dialect A crm_mon -1: pacemakerd ping ack then event, fencer register, compressed sync CIB query",
		name: "a-crm-mon",
		build: func(g *gen) []want {
			g.evIDs[100] = 16
			pm := g.connect("pacemakerd", 2222, "crm_mon", 100, "pacemakerd", DialectA)
			ref := ctrlRef("ping", "crm_mon", 0)
			id, ping := pm.request(xmlCtrlRequest("create_request_adv", "crmd", "ping", ref, "pacemakerd", "2222_crm_mon", "", ""), pcmk.FlagClientResponse)
			ack := pm.response(id, xmlAck("handle_ping_request", 112), pcmk.FlagClientResponse)
			g.tick(time.Millisecond)
			pong := pm.event(xmlCtrlReply("create_reply_adv", "crmd", "ping", ref, "2222_crm_mon", "pacemakerd", xmlPingResponsePcmkd), pcmk.FlagServerFree)
			pm.disconnect()

			st := g.connect("stonith-ng", 2222, "crm_mon", 300, "pacemaker-fenced", DialectA)
			id, streg := st.request(xmlStRegister, pcmk.FlagClientResponse)
			stregReply := st.response(id, xmlStRegisterReply, 0)

			cib := g.connect("cib_ro", 2222, "crm_mon", 567, "pacemaker-based", DialectA)
			id, reg := cib.request(xmlCibRegister("crm_mon"), pcmk.FlagClientResponse)
			regReply := cib.response(id, xmlCibRegisterReply(uuidCrmMon), pcmk.FlagClientResponse)
			id, query := cib.request(xmlCibQuery(uuidCrmMon, 2, 4352), pcmk.FlagClientResponse)
			fx := loadFixture(g.t, fixtureReply)
			g.tick(3 * time.Millisecond)
			big := cib.compressed(capfile.ChannelResponse, id, fx.blob, uint32(len(fx.text)+1), pcmk.FlagServerFree)
			cib.disconnect()
			st.disconnect()
			return []want{
				{seq: ping, op: "ping", role: RoleRequest, expects: true},
				{seq: ack, op: "ack", role: RoleAck, replyTo: ping, by: "qb_id"},
				{seq: pong, op: "ping", role: RoleReply, replyTo: ping, by: "reference"},
				{seq: streg, op: "register", role: RoleRequest, expects: true},
				{seq: stregReply, op: "register", role: RoleReply, replyTo: streg, by: "qb_id"},
				{seq: reg, op: "register", role: RoleRequest, expects: true},
				{seq: regReply, op: "register", role: RoleReply, replyTo: reg, by: "qb_id"},
				{seq: query, op: "cib_query", role: RoleRequest, expects: true},
				{seq: big, op: "cib_query", role: RoleReply, replyTo: query, by: "qb_id", compressed: true, xmlBytes: len(fx.text)},
			}
		},
	},
	{
		desc: "dialect A crmadmin -S and crm_node -n: hello without reply, ping ack then event, node-info event only",
		name: "a-crmadmin",
		build: func(g *gen) []want {
			c := g.connect("crmd", 2345, "crmadmin", 400, "pacemaker-controld", DialectA)
			_, hello := c.request(xmlCtrlRequest("create_request_adv", "crmd", "hello", ctrlRef("hello", "crmadmin", 0), "crmd", "2345", "", xmlHelloBody), 0)
			ref := ctrlRef("ping", "crmadmin", 1)
			id, ping := c.request(xmlCtrlRequest("create_request_adv", "crmd", "ping", ref, "crmd", "2345_crmadmin", "node1", ""), pcmk.FlagClientResponse)
			ack := c.response(id, xmlAck("dispatch_controller_ipc", 112), pcmk.FlagClientResponse)
			pong := c.event(xmlCtrlReply("create_reply_adv", "crmd", "ping", ref, "2345_crmadmin", "crmd", xmlPingResponseCrmd), pcmk.FlagServerFree)
			ref2 := ctrlRef("node-info", "crmadmin", 2)
			_, info := c.request(xmlCtrlRequest("create_request_adv", "crmd", "node-info", ref2, "crmd", "2345_crmadmin", "", ""), 0)
			infoReply := c.event(xmlCtrlReply("create_reply_adv", "crmd", "node-info", ref2, "2345_crmadmin", "crmd", `<node id="1" uname="node1" crmd="member" have-quorum="true" remote_node="false"/>`), pcmk.FlagServerFree)
			c.disconnect()
			return []want{
				{seq: hello, op: "hello", role: RoleRequest, expects: false},
				{seq: ping, op: "ping", role: RoleRequest, expects: true},
				{seq: ack, op: "ack", role: RoleAck, replyTo: ping, by: "qb_id"},
				{seq: pong, op: "ping", role: RoleReply, replyTo: ping, by: "reference"},
				{seq: info, op: "node-info", role: RoleRequest, expects: true},
				{seq: infoReply, op: "node-info", role: RoleReply, replyTo: info, by: "reference"},
			}
		},
	},
	{
		desc: "dialect A attrd: update answered by an ack, query by build_query_reply",
		name: "a-attrd",
		build: func(g *gen) []want {
			c := g.connect("attrd", 3000, "attrd_updater", 500, "pacemaker-attrd", DialectA)
			id, upd := c.request(xmlAttrdUpdate, pcmk.FlagClientResponse)
			ack := c.response(id, xmlAttrdAck, pcmk.FlagClientResponse)
			id, q := c.request(xmlAttrdQuery, pcmk.FlagClientResponse)
			qr := c.response(id, xmlAttrdReply, pcmk.FlagClientResponse)
			c.disconnect()
			return []want{
				{seq: upd, op: "update", role: RoleRequest, expects: true},
				{seq: ack, op: "ack", role: RoleAck, replyTo: upd, by: "qb_id"},
				{seq: q, op: "query", role: RoleRequest, expects: true},
				{seq: qr, op: "build_query_reply", role: RoleReply, replyTo: q, by: "qb_id"},
			}
		},
	},
	{
		desc: "dialect A stonith_admin -l: register and sync st_query",
		name: "a-stonith-admin",
		build: func(g *gen) []want {
			c := g.connect("stonith-ng", 3456, "stonith_admin", 300, "pacemaker-fenced", DialectA)
			id, reg := c.request(xmlStRegister, pcmk.FlagClientResponse)
			regReply := c.response(id, xmlStRegisterReply, 0)
			id, q := c.request(xmlStQuery, pcmk.FlagClientResponse)
			g.tick(2 * time.Millisecond)
			qr := c.response(id, xmlStQueryReply, 0)
			c.disconnect()
			return []want{
				{seq: reg, op: "register", role: RoleRequest, expects: true},
				{seq: regReply, op: "register", role: RoleReply, replyTo: reg, by: "qb_id"},
				{seq: q, op: "st_query", role: RoleRequest, expects: true},
				{seq: qr, op: "st_query", role: RoleReply, replyTo: q, by: "qb_id"},
			}
		},
	},
	{
		desc: "dialect A controld and execd: lrmd_rsc_exec, lrmd_reply, new-client notification, completion event",
		name: "a-execd",
		build: func(g *gen) []want {
			c := g.connect("lrmd", 400, "pacemaker-contr", 600, "pacemaker-execd", DialectA)
			id, exec := c.request(xmlLrmdExec, pcmk.FlagClientResponse)
			reply := c.response(id, xmlLrmdReply, 0)
			newClient := c.event(xmlLrmdNewClint, pcmk.FlagServerFree)
			g.tick(25 * time.Millisecond)
			done := c.event(xmlLrmdNotify, pcmk.FlagServerFree)
			c.disconnect()
			return []want{
				{seq: exec, op: "lrmd_rsc_exec", role: RoleRequest, expects: true},
				{seq: reply, op: "lrmd_reply", role: RoleReply, replyTo: exec, by: "qb_id"},
				{seq: newClient, op: "lrmd_rsc_new_client", role: RoleNotification},
				{seq: done, op: "lrmd_rsc_exec", role: RoleEvent, replyTo: exec, by: "lrmd_callid"},
			}
		},
	},
	{
		desc: "dialect A controld: cib_modify on cib_shm with a diff notification before its reply, pe_calc answered by an event",
		name: "a-controld",
		build: func(g *gen) []want {
			cib := g.connect("cib_shm", 400, "pacemaker-contr", 567, "pacemaker-based", DialectA)
			mod := fmt.Sprintf(`<cib_command __name__="cib_command" t="cib" cib_async_id="%s" cib_op="cib_modify" cib_callid="5" cib_callopt="1048576" cib_section="status" cib_clientname="crmd"><cib_calldata><node_state id="1" uname="node1" crm-debug-origin="do_update_resource"/></cib_calldata></cib_command>`, uuidCtrl)
			_, modReq := cib.request(mod, 0)
			notify := cib.event(xmlCibDiffNotify, 0)
			modReply := cib.event(xmlCibReply("cib_modify", 5, uuidCtrl, ""), pcmk.FlagServerFree)

			pe := g.connect("pengine", 400, "pacemaker-contr", 700, "pacemaker-schedul", DialectA)
			ref := "pe_calc-dc-1740830403-64"
			_, calc := pe.request(xmlCtrlRequest("create_request_adv", "crmd", "pe_calc", ref, "pengine", "dc", "", smallCIB), 0)
			g.tick(40 * time.Millisecond)
			graph := pe.event(xmlCtrlReply("create_reply_adv", "crmd", "pe_calc", ref, "dc", "pengine", xmlPeCalcReplyBody), pcmk.FlagServerFree)
			return []want{
				{seq: modReq, op: "cib_modify", role: RoleRequest, expects: true},
				{seq: notify, op: "cib_diff_notify", role: RoleNotification},
				{seq: modReply, op: "cib_modify", role: RoleReply, replyTo: modReq, by: "cib_callid"},
				{seq: calc, op: "pe_calc", role: RoleRequest, expects: true},
				{seq: graph, op: "pe_calc", role: RoleReply, replyTo: calc, by: "reference"},
			}
		},
	},
	{
		desc: "dialect A cibadmin -C of 580 KB: compressed request, reply as event",
		name: "a-compressed-request",
		build: func(g *gen) []want {
			c := g.connect("cib_rw", 1235, "cibadmin", 567, "pacemaker-based", DialectA)
			id, reg := c.request(xmlCibRegister("cibadmin"), pcmk.FlagClientResponse)
			regReply := c.response(id, xmlCibRegisterReply(uuidCibadmin), pcmk.FlagClientResponse)
			fx := loadFixture(g.t, fixtureRequest)
			g.reqIDs[1235]++
			create := c.compressed(capfile.ChannelRequest, g.reqIDs[1235], fx.blob, uint32(len(fx.text)+1), 0)
			g.tick(20 * time.Millisecond)
			reply := c.event(xmlCibReply("cib_create", 2, uuidCibadmin, ""), pcmk.FlagServerFree)
			c.disconnect()
			return []want{
				{seq: reg, op: "register", role: RoleRequest, expects: true},
				{seq: regReply, op: "register", role: RoleReply, replyTo: reg, by: "qb_id"},
				{seq: create, op: "cib_create", role: RoleRequest, expects: true, compressed: true, xmlBytes: len(fx.text)},
				{seq: reply, op: "cib_create", role: RoleReply, replyTo: create, by: "cib_callid"},
			}
		},
	},
	{
		desc: "corosync cpg: libqb layer only, responses paired by id in order, an mcast without one",
		name: "corosync-cpg",
		build: func(g *gen) []want {
			c := g.connect("cpg", 400, "pacemaker-contr", 50, "corosync", DialectAuto)
			join := c.corosyncRequest(0, make([]byte, 112))
			joinRes := c.corosyncResponse(capfile.ChannelResponse, 0, 1, nil)
			// A successful cpg mcast gets no response (real 2.1.5 captures).
			mcast := c.corosyncRequest(2, []byte("opaque"))
			deliver := c.corosyncResponse(capfile.ChannelEvent, 9, 0, make([]byte, 40))
			members := c.corosyncRequest(3, []byte("opaque"))
			membersRes := c.corosyncResponse(capfile.ChannelResponse, 3, 1, nil)
			return []want{
				{seq: join, role: RoleRequest},
				{seq: joinRes, role: RoleReply, replyTo: join, by: "order"},
				{seq: mcast, role: RoleRequest},
				{seq: deliver, role: RoleEvent},
				{seq: members, role: RoleRequest},
				{seq: membersRes, role: RoleReply, replyTo: members, by: "order"},
			}
		},
	},
	{
		desc: "dialect B 3.0 crm_mon: <message> roots with t=pacemakerd, multipart CIB reply of 300000 characters",
		name: "b-crm-mon",
		build: func(g *gen) []want {
			pm := g.connect("pacemakerd", 2222, "crm_mon", 100, "pacemakerd", DialectB)
			ref := ctrlRef("ping", "crm_mon", 0)
			id, ping := pm.request(xmlCtrlRequest("message", "pacemakerd", "ping", ref, "pacemakerd", "2222_crm_mon", "", ""), pcmk.FlagClientResponse)
			ack := pm.response(id, xmlAck("handle_ping_request", 112), pcmk.FlagClientResponse)
			pong := pm.event(xmlCtrlReply("message", "pacemakerd", "ping", ref, "2222_crm_mon", "pacemakerd", xmlPingResponsePcmkd), pcmk.FlagServerFree)
			pm.disconnect()
			cib := g.connect("cib_ro", 2222, "crm_mon", 567, "pacemaker-based", DialectB)
			id, reg := cib.request(xmlCibRegister("crm_mon"), pcmk.FlagClientResponse)
			regReply := cib.response(id, xmlCibRegisterReply(uuidCrmMon), pcmk.FlagClientResponse)
			id, query := cib.request(xmlCibQuery(uuidCrmMon, 2, 4352), pcmk.FlagClientResponse)
			big := cib.response(id, sized(2, 300000), 0)
			cib.disconnect()
			return []want{
				{seq: ping, op: "ping", role: RoleRequest, expects: true},
				{seq: ack, op: "ack", role: RoleAck, replyTo: ping, by: "qb_id"},
				{seq: pong, op: "ping", role: RoleReply, replyTo: ping, by: "reference"},
				{seq: reg, op: "register", role: RoleRequest, expects: true},
				{seq: regReply, op: "register", role: RoleReply, replyTo: reg, by: "qb_id"},
				{seq: query, op: "cib_query", role: RoleRequest, expects: true},
				{seq: big, op: "cib_query", role: RoleReply, replyTo: query, by: "qb_id", parts: 3, xmlBytes: 300000},
			}
		},
	},
	{
		desc: "dialect B exact multiples of 131031 characters: a final part holding only the NUL",
		name: "b-exact-multiple",
		build: func(g *gen) []want {
			c := g.connect("cib_rw", 1300, "cibadmin", 567, "pacemaker-based", DialectB)
			var w []want
			for i, n := range []int{131030, 131031, 131032, 2 * 131031} {
				id, q := c.request(xmlCibQuery(uuidCibadmin, i+2, 4352), pcmk.FlagClientResponse)
				r := c.response(id, sized(i+2, n), 0)
				parts := len(splitParts(sized(i+2, n)))
				w = append(w, want{seq: q, op: "cib_query", role: RoleRequest, expects: true},
					want{seq: r, op: "cib_query", role: RoleReply, replyTo: q, by: "qb_id", parts: parts, xmlBytes: n})
			}
			c.disconnect()
			return w
		},
	},
	{
		desc: "dialect B multipart messages interleaved across three connections, and a multipart request",
		name: "b-interleaved",
		build: func(g *gen) []want {
			x := g.connect("cib_rw", 1401, "cibadmin", 567, "pacemaker-based", DialectB)
			y := g.connect("cib_rw", 1402, "cibadmin", 567, "pacemaker-based", DialectB)
			z := g.connect("crmd", 1403, "crm_node", 400, "pacemaker-controld", DialectB)
			textX, textY := sized(7, 300000), bigCIB(8, 200000)
			partsX, partsY := splitParts(textX), splitParts(textY)
			// multipart request on x, its parts interleaved with y's request
			idX, idY := int32(9), int32(4)
			var last [2]uint64
			for k := 0; k < max(len(partsX), len(partsY)); k++ {
				for i, c := range []*gconn{x, y} {
					parts, id := partsX, idX
					if i == 1 {
						parts, id = partsY, idY
					}
					if k >= len(parts) {
						continue
					}
					f := pcmk.FlagClientResponse | pcmk.FlagMultipart
					if k == len(parts)-1 {
						f |= pcmk.FlagMultipartEnd
					}
					last[i] = c.raw(capfile.ChannelRequest, envelopeB(id, parts[k], f, uint16(k))).Seq
				}
				if k == 0 {
					z.request(xmlCtrlRequest("message", "crmd", "hello", ctrlRef("hello", "crm_node", 0), "crmd", "1403", "", ""), 0)
				}
			}
			rx := y.response(idY, xmlCibReply("cib_replace", 3, uuidCibadmin, ""), 0)
			ry := x.response(idX, xmlCibReply("cib_replace", 2, uuidCibadmin, ""), 0)
			return []want{
				{seq: last[0], op: "cib_query", role: RoleRequest, expects: true, parts: len(partsX), xmlBytes: len(textX)},
				{seq: last[1], op: "cib_query", role: RoleRequest, expects: true, parts: len(partsY), xmlBytes: len(textY)},
				{seq: rx, op: "cib_replace", role: RoleReply, replyTo: last[1], by: "qb_id"},
				{seq: ry, op: "cib_replace", role: RoleReply, replyTo: last[0], by: "qb_id"},
			}
		},
	},
	{
		desc: "dialect B multipart event to two clients at once",
		name: "b-multipart-events",
		build: func(g *gen) []want {
			a := g.connect("cib_rw", 1501, "cibadmin", 567, "pacemaker-based", DialectB)
			b := g.connect("cib_rw", 1502, "cibadmin", 567, "pacemaker-based", DialectB)
			_, qa := a.request(xmlCibQuery(uuidCibadmin, 2, 0), 0)
			_, qb := b.request(xmlCibQuery(uuidCrmMon, 2, 0), 0)
			ta, tb := xmlCibReply("cib_query", 2, uuidCibadmin, bigCIB(2, 150000)), xmlCibReply("cib_query", 2, uuidCrmMon, bigCIB(2, 270000))
			pa, pb := splitParts(ta), splitParts(tb)
			g.evIDs[567]++
			ida := g.evIDs[567]
			g.evIDs[567]++
			idb := g.evIDs[567]
			var la, lb uint64
			for k := 0; k < max(len(pa), len(pb)); k++ {
				if k < len(pb) {
					f := pcmk.FlagServerEvent | pcmk.FlagServerFree | pcmk.FlagMultipart
					if k == len(pb)-1 {
						f |= pcmk.FlagMultipartEnd
					}
					lb = b.raw(capfile.ChannelEvent, envelopeB(idb, pb[k], f, uint16(k))).Seq
				}
				if k < len(pa) {
					f := pcmk.FlagServerEvent | pcmk.FlagServerFree | pcmk.FlagMultipart
					if k == len(pa)-1 {
						f |= pcmk.FlagMultipartEnd
					}
					la = a.raw(capfile.ChannelEvent, envelopeB(ida, pa[k], f, uint16(k))).Seq
				}
			}
			return []want{
				{seq: qa, op: "cib_query", role: RoleRequest, expects: true},
				{seq: qb, op: "cib_query", role: RoleRequest, expects: true},
				{seq: la, op: "cib_query", role: RoleReply, replyTo: qa, by: "cib_callid", parts: len(pa), xmlBytes: len(ta)},
				{seq: lb, op: "cib_query", role: RoleReply, replyTo: qb, by: "cib_callid", parts: len(pb), xmlBytes: len(tb)},
			}
		},
	},
	{
		desc: "dialect A crm_resource --cleanup: lrm_delete answered by a controller message with a fresh reference",
		name: "a-crm-resource-cleanup",
		build: func(g *gen) []want {
			c := g.connect("crmd", 2468, "crm_resource", 400, "pacemaker-controld", DialectA)
			_, hello := c.request(xmlCtrlRequest("create_request_adv", "crmd", "hello", ctrlRef("hello", "crm_resource", 0), "crmd", "2468", "", xmlHelloBody), 0)
			body := `<rsc_op transition-key="" on_node="node1" crm-debug-origin="crm_resource"><primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy"/><attributes CRM_meta_op_no_wait="true" crm_feature_set="3.16.1"/></rsc_op>`
			_, del := c.request(xmlCtrlRequest("create_request_adv", "crmd", "lrm_delete", ctrlRef("lrm_delete", "crm_resource", 1), "lrmd", "2468_crm_resource", "node1", body), 0)
			g.tick(3 * time.Millisecond)
			result := strings.Replace(xmlCtrlRequest("create_request_adv", "crmd", "lrm_invoke", ctrlRef("lrm_invoke", "controld", 9), "2468_crm_resource", "lrmd", "", `<node_state id="1" uname="node1"/>`), `origin="create_request_adv"`, `origin="send_direct_ack"`, 1)
			res := c.event(result, pcmk.FlagServerFree)
			c.disconnect()
			return []want{
				{seq: hello, op: "hello", role: RoleRequest},
				{seq: del, op: "lrm_delete", role: RoleRequest, expects: true},
				{seq: res, op: "lrm_invoke", role: RoleReply, replyTo: del, by: "order"},
			}
		},
	},
	{
		desc: "capture starts mid-conversation: replies without their requests",
		name: "a-mid-conversation",
		build: func(g *gen) []want {
			c := g.connect("cib_rw", 1236, "cibadmin", 567, "pacemaker-based", DialectA)
			resp := c.response(1, xmlCibRegisterReply(uuidCibadmin), pcmk.FlagClientResponse)
			ev := c.event(xmlCibReply("cib_query", 2, uuidCibadmin, ""), pcmk.FlagServerFree)
			ctl := g.connect("crmd", 1237, "crmadmin", 400, "pacemaker-controld", DialectA)
			pong := ctl.event(xmlCtrlReply("create_reply_adv", "crmd", "ping", ctrlRef("ping", "crmadmin", 1), "1237_crmadmin", "crmd", xmlPingResponseCrmd), pcmk.FlagServerFree)
			return []want{
				{seq: resp, op: "register", role: RoleReply},
				{seq: ev, op: "cib_query", role: RoleReply},
				{seq: pong, op: "ping", role: RoleReply},
			}
		},
	},
	{
		desc: "dialect A receive-side records pair among themselves",
		name: "a-rx",
		build: func(g *gen) []want {
			tx := g.connect("attrd", 3001, "attrd_updater", 500, "pacemaker-attrd", DialectA)
			rx := *tx
			rx.rx = true
			id, q := tx.request(xmlAttrdQuery, pcmk.FlagClientResponse)
			qRX := rx.send(capfile.ChannelRequest, id, xmlAttrdQuery, pcmk.FlagClientResponse)
			r := tx.response(id, xmlAttrdReply, pcmk.FlagClientResponse)
			rRX := rx.send(capfile.ChannelResponse, id, xmlAttrdReply, pcmk.FlagClientResponse|pcmk.FlagServerFree)
			return []want{
				{seq: q, op: "query", role: RoleRequest, expects: true},
				{seq: qRX, op: "query", role: RoleRequest, expects: true},
				{seq: r, op: "build_query_reply", role: RoleReply, replyTo: q, by: "qb_id"},
				{seq: rRX, op: "build_query_reply", role: RoleReply, replyTo: qRX, by: "qb_id"},
			}
		},
	},
}

// allScenarios writes every scenario into one capture, as a busy node
// would, and returns the records and all expectations.
func allScenarios(g *gen) []want {
	var w []want
	for _, sc := range scenarios {
		w = append(w, sc.build(g)...)
		g.tick(time.Millisecond)
	}
	return w
}

func (w want) String() string {
	return fmt.Sprintf("seq %d %s %s", w.seq, w.role, strings.TrimSpace(w.op))
}

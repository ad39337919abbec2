package decode

// GENERATED TEST TRAFFIC.
//
// Nothing in this file was captured from a live daemon. The records are
// built by following the framing documented in docs/protocol.md (libqb
// headers, section 3.1; the Pacemaker envelope in both dialects, bzip2 and
// multipart, section 6; the XML of each daemon, section 8), with XML taken
// from that document's examples. It covers what real captures rarely or
// never contain: multipart messages interleaved across connections, the
// exact-multiple edge case, broken part sequences, crafted sizes. Tests
// built on it say so in their names ("generated"); golden tests on real
// captures live in golden_test.go.

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// genEpoch is the time of the first generated record.
var genEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// gen builds a capture: records in order, with the per-process counters
// Pacemaker keeps (client request ids, server event ids).
type gen struct {
	t      testing.TB
	now    time.Time
	seq    uint64
	recs   []*capfile.Record
	reqIDs map[uint32]int32 // per client process (crm_ipc_send's static counter)
	evIDs  map[uint32]int32 // per server process
	nconn  int
}

func newGen(t testing.TB) *gen {
	return &gen{t: t, now: genEpoch, reqIDs: map[uint32]int32{}, evIDs: map[uint32]int32{}}
}

// tick advances the clock.
func (g *gen) tick(d time.Duration) { g.now = g.now.Add(d) }

// gconn is one client connection to one service.
type gconn struct {
	g        *gen
	service  string
	key      string
	cli, srv uint32
	cliComm  string
	srvComm  string
	d        Dialect
	rx       bool // mark records as receive-side
}

// connect opens a connection and, like the recorder, writes a connect record.
func (g *gen) connect(service string, cli uint32, cliComm string, srv uint32, srvComm string, d Dialect) *gconn {
	g.nconn++
	// the kernel keeps 15 bytes of a command name
	cliComm, srvComm = cliComm[:min(len(cliComm), 15)], srvComm[:min(len(srvComm), 15)]
	c := &gconn{g: g, service: service, cli: cli, srv: srv, cliComm: cliComm, srvComm: srvComm, d: d,
		key: fmt.Sprintf("qb-%d-%d-%d-gen%03d", srv, cli, 20+g.nconn, g.nconn)}
	g.add(&capfile.Record{Kind: capfile.KindConnect, Hook: capfile.HookConnect, PID: cli, Comm: cliComm,
		Service: service, ClientPID: cli, ServerPID: srv, Conn: c.key, MaxMsgSize: 131072})
	return c
}

func (c *gconn) disconnect() {
	c.g.add(&capfile.Record{Kind: capfile.KindDisconnect, Hook: capfile.HookDisconnect, PID: c.cli, Comm: c.cliComm,
		Service: c.service, ClientPID: c.cli, ServerPID: c.srv, Conn: c.key})
}

func (g *gen) add(r *capfile.Record) *capfile.Record {
	g.seq++
	r.Seq = g.seq
	r.Packet = int(g.seq)
	r.Time = g.now
	r.Transport = capfile.TransportSHM
	if r.Kind == capfile.KindMessage {
		r.Hook = capfile.HookRBCommit
		r.OrigLen = uint32(len(r.Data))
	}
	g.recs = append(g.recs, r)
	g.tick(50 * time.Microsecond)
	return r
}

// raw writes one record of libqb message bytes on channel ch.
func (c *gconn) raw(ch capfile.Channel, data []byte) *capfile.Record {
	pid, comm := c.srv, c.srvComm
	if ch == capfile.ChannelRequest {
		pid, comm = c.cli, c.cliComm
	}
	r := &capfile.Record{Kind: capfile.KindMessage, Channel: ch, PID: pid, Comm: comm, Service: c.service,
		ClientPID: c.cli, ServerPID: c.srv, Conn: c.key, Data: data}
	if c.rx {
		r.Flags |= capfile.FlagRX
	}
	return c.g.add(r)
}

// send writes text as one logical message: one record in dialect A, one
// or more parts in dialect B. It returns the Seq of the last record.
func (c *gconn) send(ch capfile.Channel, id int32, text string, flags Flags) uint64 {
	if c.d == DialectA {
		return c.raw(ch, envelopeA(id, append([]byte(text), 0), uint32(len(text)+1), flags)).Seq
	}
	parts := splitParts(text)
	var seq uint64
	for k, p := range parts {
		f := flags
		if len(parts) > 1 {
			f |= pcmk.FlagMultipart
			if k == len(parts)-1 {
				f |= pcmk.FlagMultipartEnd
			}
		}
		seq = c.raw(ch, envelopeB(id, p, f, uint16(k))).Seq
	}
	return seq
}

// request sends a client request with the next id of the client process.
func (c *gconn) request(text string, flags Flags) (int32, uint64) {
	c.g.reqIDs[c.cli]++
	id := c.g.reqIDs[c.cli]
	return id, c.send(capfile.ChannelRequest, id, text, flags)
}

// response answers request id on the response channel.
func (c *gconn) response(id int32, text string, flags Flags) uint64 {
	return c.send(capfile.ChannelResponse, id, text, flags|pcmk.FlagServerFree)
}

// event sends an event with the next id of the server process.
func (c *gconn) event(text string, flags Flags) uint64 {
	c.g.evIDs[c.srv]++
	return c.send(capfile.ChannelEvent, c.g.evIDs[c.srv], text, flags|pcmk.FlagServerEvent)
}

// compressed sends a dialect A bzip2 body (docs/protocol.md 6.6).
func (c *gconn) compressed(ch capfile.Channel, id int32, blob []byte, sizeUncompressed uint32, flags Flags) uint64 {
	return c.raw(ch, envelopeA(id, blob, sizeUncompressed, flags|pcmk.FlagCompressed)).Seq
}

// envelopeA frames payload in a dialect A envelope: payload is text+NUL,
// or a bzip2 stream when flags has pcmk.FlagCompressed.
func envelopeA(id int32, payload []byte, sizeUncompressed uint32, flags Flags) []byte {
	b := make([]byte, envelopeLen, envelopeLen+len(payload))
	binary.LittleEndian.PutUint32(b[0:], uint32(id))
	binary.LittleEndian.PutUint32(b[8:], uint32(envelopeLen+len(payload)))
	binary.LittleEndian.PutUint32(b[24:], sizeUncompressed)
	if flags&pcmk.FlagCompressed != 0 {
		binary.LittleEndian.PutUint32(b[28:], uint32(len(payload)))
	}
	binary.LittleEndian.PutUint32(b[32:], uint32(flags))
	b[36] = 1
	return append(b, payload...)
}

// envelopeB frames one part (its text and NUL) in a dialect B envelope.
func envelopeB(id int32, part []byte, flags Flags, partID uint16) []byte {
	b := make([]byte, envelopeLen, envelopeLen+len(part))
	binary.LittleEndian.PutUint32(b[0:], uint32(id))
	binary.LittleEndian.PutUint32(b[8:], uint32(envelopeLen+len(part)))
	binary.LittleEndian.PutUint32(b[24:], uint32(len(part)))
	binary.LittleEndian.PutUint32(b[28:], uint32(flags))
	b[32] = 1
	binary.LittleEndian.PutUint16(b[34:], partID)
	return append(b, part...)
}

// Dialect B splitting (docs/protocol.md 6.7): the buffer is 128 KiB, so a part
// carries at most 131031 characters and its NUL.
const (
	bufferB   = 131072
	maxChunkB = bufferB - envelopeLen - 1
)

// splitParts cuts text into dialect B part payloads, each NUL-terminated.
// A remainder of exactly maxChunkB characters still makes a full part,
// followed by a final part holding only the NUL.
func splitParts(text string) [][]byte {
	var parts [][]byte
	for {
		if envelopeLen+len(text)+1 >= bufferB {
			parts = append(parts, append([]byte(text[:maxChunkB]), 0))
			text = text[maxChunkB:]
			continue
		}
		return append(parts, append([]byte(text), 0))
	}
}

// corosyncRequest writes a corosync-style request: a 16-byte libqb request
// header and an opaque body.
func (c *gconn) corosyncRequest(msgID int32, body []byte) uint64 {
	b := make([]byte, requestHeaderLen, requestHeaderLen+len(body))
	binary.LittleEndian.PutUint32(b[0:], uint32(msgID))
	binary.LittleEndian.PutUint32(b[8:], uint32(requestHeaderLen+len(body)))
	return c.raw(capfile.ChannelRequest, append(b, body...)).Seq
}

// corosyncResponse writes a 24-byte libqb response header (error field
// set) and an opaque body.
func (c *gconn) corosyncResponse(ch capfile.Channel, msgID, qbErr int32, body []byte) uint64 {
	b := make([]byte, responseHeaderLen, responseHeaderLen+len(body))
	binary.LittleEndian.PutUint32(b[0:], uint32(msgID))
	binary.LittleEndian.PutUint32(b[8:], uint32(responseHeaderLen+len(body)))
	binary.LittleEndian.PutUint32(b[16:], uint32(qbErr))
	return c.raw(ch, append(b, body...)).Seq
}

// sliceSource is a RecordSource over records in memory.
type sliceSource struct {
	recs []*capfile.Record
	i    int
}

func (s *sliceSource) Next() (*capfile.Record, error) {
	if s.i >= len(s.recs) {
		return nil, io.EOF
	}
	s.i++
	return s.recs[s.i-1], nil
}

// decodeAll decodes records with opts and returns every message.
func decodeAll(t testing.TB, recs []*capfile.Record, opts Options) ([]*Message, Stats) {
	t.Helper()
	r := NewReader(&sliceSource{recs: recs}, opts)
	var out []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out, r.Stats()
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, m)
	}
}

// Example XML, after docs/protocol.md sections 7.7 and 8.2.
const (
	uuidCibadmin = "7f6b2c1e-3d4a-4e5f-8a9b-0c1d2e3f4a5b"
	uuidCrmMon   = "1a2b3c4d-5e6f-4a1b-8c2d-3e4f5a6b7c8d"
	uuidStonith  = "9e8d7c6b-5a49-4382-b716-05f4e3d2c1b0"
	uuidCtrl     = "c0ffee00-1111-4222-8333-944445555666"
)

func xmlCibRegister(client string) string {
	return `<cib_command t="cib" cib_op="register" cib_clientname="` + client + `" cib_callopt="4096"/>`
}

func xmlCibRegisterReply(id string) string {
	return `<cib_common_callback_worker cib_op="register" cib_clientid="` + id + `"/>`
}

func xmlCibQuery(async string, callID int, callopt int) string {
	return fmt.Sprintf(`<cib_command __name__="cib_command" t="cib" cib_async_id="%s" cib_op="cib_query" cib_callid="%d" cib_callopt="%d"/>`, async, callID, callopt)
}

func xmlCibReply(op string, callID int, client string, body string) string {
	return fmt.Sprintf(`<cib-reply t="cib" cib_op="%s" cib_callid="%d" cib_clientid="%s" cib_callopt="0" cib_rc="0"><cib_calldata>%s</cib_calldata></cib-reply>`, op, callID, client, body)
}

const smallCIB = `<cib crm_feature_set="3.16.1" validate-with="pacemaker-3.8" epoch="5" num_updates="0" admin_epoch="0" cib-last-written="Sat Mar  1 12:00:00 2025" update-origin="node1" update-client="cibadmin" update-user="root" have-quorum="1" dc-uuid="1"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="cib-bootstrap-options-have-watchdog" name="have-watchdog" value="false"/><nvpair id="cib-bootstrap-options-dc-version" name="dc-version" value="2.1.5-a3f44794f94"/><nvpair id="cib-bootstrap-options-cluster-infrastructure" name="cluster-infrastructure" value="corosync"/><nvpair id="cib-bootstrap-options-stonith-enabled" name="stonith-enabled" value="false"/></cluster_property_set></crm_config><nodes><node id="1" uname="node1"/></nodes><resources><primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy"/></resources><constraints/></configuration><status><node_state id="1" uname="node1" in_ccm="true" crmd="online" crm-debug-origin="do_state_transition" join="member" expected="member"/></status></cib>`

const xmlCibDiffNotify = `<notify t="cib_notify" subt="cib_diff_notify" cib_op="cib_modify" cib_rc="0" cib_object_type="diff"><cib_generation><generation_tuple epoch="5" num_updates="1" admin_epoch="0"/></cib_generation><cib_update_result><diff format="2" digest="3f0a1b2c3d4e5f60718293a4b5c6d7e8"><version><source admin_epoch="0" epoch="5" num_updates="0"/><target admin_epoch="0" epoch="5" num_updates="1"/></version><change operation="modify" path="/cib/status/node_state[@id=&apos;1&apos;]"><change-list><change-attr name="crm-debug-origin" operation="set" value="do_update_resource"/></change-list><change-result><node_state id="1" uname="node1" crm-debug-origin="do_update_resource"/></change-result></change></diff></cib_update_result></notify>`

// controller-style messages: 2.1.x roots are function names, 3.0 uses
// <message> and a per-daemon t.
func xmlCtrlRequest(root, t, task, ref, to, from, hostTo, body string) string {
	host := ""
	if hostTo != "" {
		host = ` crm_host_to="` + hostTo + `"`
	}
	return fmt.Sprintf(`<%s origin="create_request_adv" t="%s" version="3.16.1" subt="request" reference="%s" crm_task="%s" crm_sys_to="%s" crm_sys_from="%s"%s src="node1"><crm_xml>%s</crm_xml></%s>`,
		root, t, ref, task, to, from, host, body, root)
}

func xmlCtrlReply(root, t, task, ref, to, from, body string) string {
	return fmt.Sprintf(`<%s origin="handle_ping_request" t="%s" version="3.16.1" subt="response" reference="%s" crm_task="%s" crm_sys_to="%s" crm_sys_from="%s" src="node1"><crm_xml>%s</crm_xml></%s>`,
		root, t, ref, task, to, from, body, root)
}

func xmlAck(function string, status int) string {
	return fmt.Sprintf(`<ack function="%s" line="391" status="%d"/>`, function, status)
}

const (
	xmlPingResponsePcmkd = `<ping_response crm_subsystem="pacemakerd" pacemakerd_state="running" crm-timestamp="1740830400" result="ok"/>`
	xmlPingResponseCrmd  = `<ping_response crm_subsystem="crmd" crmd_state="S_IDLE" result="ok"/>`
	xmlHelloBody         = `<options major_version="1" minor_version="0" client_name="crmadmin" client_uuid="2345"/>`

	xmlAttrdUpdate = `<create_attrd_op t="attrd" src="crm_attribute" task="update" attr_name="foo" attr_value="bar" attr_host="node1" attr_is_remote="0" attr_is_private="0" attr_user="root"/>`
	xmlAttrdAck    = `<ack function="attrd_ipc_dispatch" line="321" status="112" ipc-protocol-version="4"/>`
	xmlAttrdQuery  = `<create_attrd_op t="attrd" src="attrd_updater" task="query" attr_name="foo" attr_host="node1"/>`
	xmlAttrdReply  = `<build_query_reply t="attrd" subt="query" attr_version="4" attr_name="foo"><node attr_host="node1" attr_value="bar"/></build_query_reply>`

	xmlStRegister      = `<stonith_command __name__="stonith_command" t="stonith-ng" st_op="register" st_clientname="stonith_admin.3456"/>`
	xmlStRegisterReply = `<reply st_op="register" st_clientid="` + uuidStonith + `"/>`
	xmlStQuery         = `<stonith_command __name__="stonith_command" t="stonith-ng" st_async_id="` + uuidStonith + `" st_op="st_query" st_callid="2" st_callopt="4098" st_timeout="120" st_clientid="` + uuidStonith + `" st_clientname="stonith_admin.3456"><st_calldata><st_device_id st_origin="stonith_api_query" st_target="node1" st_device_action="off"/></st_calldata></stonith_command>`
	xmlStQueryReply    = `<st-reply st_origin="stonith_construct_reply" t="st-reply" st_op="st_query" st_clientid="` + uuidStonith + `" st_clientname="stonith_admin.3456" st_callid="2" st_callopt="4098" st_rc="0"><st_calldata><st-reply st_available_devices="0"/></st_calldata></st-reply>`

	xmlLrmdExec     = `<lrmd_command lrmd_origin="lrmd_send_command" t="lrmd" lrmd_async_id="` + uuidCtrl + `" lrmd_op="lrmd_rsc_exec" lrmd_timeout="20000" lrmd_callopt="4"><lrmd_calldata><lrmd_rsc lrmd_rsc_id="dummy" lrmd_rsc_action="monitor" lrmd_rsc_userdata_str="1:33:7:0b4c6b1e-1b9b-4c5e-9a7f-2b2c3d4e5f60" lrmd_rsc_interval="0" lrmd_rsc_start_delay="0"><attributes CRM_meta_on_node="node1" CRM_meta_on_node_uuid="1" CRM_meta_op_target_rc="7" CRM_meta_timeout="20000" crm_feature_set="3.16.1"/></lrmd_rsc></lrmd_calldata></lrmd_command>`
	xmlLrmdReply    = `<lrmd_reply lrmd_origin="process_lrmd_message" lrmd_rc="30" lrmd_callid="30"/>`
	xmlLrmdNotify   = `<lrmd_notify lrmd_origin="send_cmd_complete_notify" lrmd_timeout="20000" lrmd_rsc_interval="0" lrmd_rsc_start_delay="0" lrmd_exec_rc="7" lrmd_exec_op_status="0" lrmd_callid="30" lrmd_rsc_deleted="0" lrmd_run_time="1740830402" lrmd_rcchange_time="1740830402" lrmd_exec_time="25" lrmd_queue_time="0" lrmd_op="lrmd_rsc_exec" lrmd_rsc_id="dummy" lrmd_rsc_action="monitor" lrmd_rsc_userdata_str="1:33:7:0b4c6b1e-1b9b-4c5e-9a7f-2b2c3d4e5f60"/>`
	xmlLrmdNewClint = `<lrmd_notify lrmd_origin="lrmd_server_send_notify" lrmd_op="lrmd_rsc_new_client" lrmd_clientid="4d3c2b1a-0000-4000-8000-123456789abc"/>`

	xmlPeCalcReplyBody = `<transition_graph cluster-delay="60s" stonith-timeout="60s" failed-stop-offset="INFINITY" failed-start-offset="INFINITY" transition_id="5"><synapse id="0"><action_set><rsc_op id="6" operation="monitor" operation_key="dummy_monitor_0" on_node="node1" on_node_uuid="1"><primitive id="dummy" class="ocf" provider="pacemaker" type="Dummy"/></rsc_op></action_set><inputs/></synapse></transition_graph>`
)

// bigCIB returns a CIB query reply of about n bytes: the body of the
// compressed fixtures and of the multipart messages.
func bigCIB(callID int, n int) string {
	var b strings.Builder
	head := fmt.Sprintf(`<cib-reply t="cib" cib_op="cib_query" cib_callid="%d" cib_clientid="%s" cib_callopt="0" cib_rc="0"><cib_calldata><cib crm_feature_set="3.16.1" validate-with="pacemaker-3.8" epoch="5" num_updates="0" admin_epoch="0"><configuration><crm_config/><nodes><node id="1" uname="node1"/></nodes><resources>`, callID, uuidCibadmin)
	tail := `</resources><constraints/></configuration><status/></cib></cib_calldata></cib-reply>`
	b.WriteString(head)
	for i := 0; b.Len()+len(tail) < n; i++ {
		fmt.Fprintf(&b, `<primitive id="dummy%d" class="ocf" provider="pacemaker" type="Dummy"><operations><op id="dummy%d-monitor-interval-10s" interval="10s" name="monitor" timeout="20s"/></operations></primitive>`, i, i)
	}
	b.WriteString(tail)
	return b.String()
}

// sized returns an XML message of exactly n characters: a CIB reply padded
// with an attribute of the right length.
func sized(callID int, n int) string {
	head := fmt.Sprintf(`<cib-reply t="cib" cib_op="cib_query" cib_callid="%d" cib_clientid="%s" cib_rc="0"><pad v="`, callID, uuidCibadmin)
	tail := `"/></cib-reply>`
	return head + strings.Repeat("x", n-len(head)-len(tail)) + tail
}

// Compressed fixtures, made by TestWriteFixtures with the bzip2 tool (Go
// has no bzip2 compressor); see testdata/README.md.
const (
	fixtureReply   = "testdata/cib-reply-192k.xml.bz2"  // bigCIB(2, 192100) and its NUL
	fixtureRequest = "testdata/cib-create-580k.xml.bz2" // xmlCibCreate(580788) and its NUL
	fixtureBomb    = "testdata/bomb-zeros.bz2"          // 100 MB of NUL bytes
	fixtureNoNUL   = "testdata/no-nul.bz2"              // "<a/>" without a NUL
)

// xmlCibCreate is a cib_create request of about n bytes.
func xmlCibCreate(n int) string {
	head := `<cib_command __name__="cib_command" t="cib" cib_async_id="` + uuidCibadmin + `" cib_op="cib_create" cib_callid="2" cib_callopt="0" cib_section="resources"><cib_calldata><resources>`
	tail := `</resources></cib_calldata></cib_command>`
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len()+len(tail) < n; i++ {
		fmt.Fprintf(&b, `<primitive id="r%d" class="ocf" provider="heartbeat" type="IPaddr2"><instance_attributes id="r%d-ia"><nvpair id="r%d-ip" name="ip" value="10.0.%d.%d"/></instance_attributes></primitive>`, i, i, i, i/250, i%250)
	}
	b.WriteString(tail)
	return b.String()
}

type fixture struct {
	blob []byte // bzip2 stream
	text string // its content without the NUL
}

var (
	fixturesOnce sync.Once
	fixtures     map[string]fixture
	fixturesErr  error
)

// loadFixture returns a compressed fixture and its decompressed text.
func loadFixture(t testing.TB, name string) fixture {
	t.Helper()
	fixturesOnce.Do(func() {
		fixtures = map[string]fixture{}
		for _, n := range []string{fixtureReply, fixtureRequest} {
			blob, err := os.ReadFile(n)
			if err != nil {
				fixturesErr = err
				return
			}
			text, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(blob)))
			if err != nil {
				fixturesErr = fmt.Errorf("%s: %w", n, err)
				return
			}
			fixtures[n] = fixture{blob: blob, text: string(bytes.TrimSuffix(text, []byte{0}))}
		}
	})
	if fixturesErr != nil {
		t.Fatalf("load fixtures: %v", fixturesErr)
	}
	return fixtures[name]
}

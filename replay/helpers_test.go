package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// wire is one message of a made-up recording.
type wire struct {
	conn    string // connection key; the client pid is taken from it
	service string
	comm    string // the client's command name (for requests)
	ch      capfile.Channel
	id      int32
	flags   qbipc.Flags
	xml     string
	at      time.Duration // since the start of the recording
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// recording encodes the messages as a recorder would have captured them (dialect A) and
// rebuilds them with decode and Capture.Add, as ReadCapture does with a file.
func recording(t testing.TB, msgs []wire) *Capture {
	t.Helper()
	var recs []*capfile.Record
	for i, w := range msgs {
		parts := strings.Split(w.conn, "-") // qb-<server>-<client>-<fd>-<rand>
		srv, _ := strconv.Atoi(parts[1])
		cli, _ := strconv.Atoi(parts[2])
		enc := qbipc.Encoder{Dialect: qbipc.DialectA}
		data, err := enc.Encode(w.id, w.xml, w.flags)
		if err != nil {
			t.Fatal(err)
		}
		pid, comm := uint32(1000+cli), w.comm
		if w.ch != capfile.ChannelRequest {
			pid, comm = uint32(1000+srv), "pacemaker-based"
		}
		recs = append(recs, &capfile.Record{
			Kind: capfile.KindMessage, Time: t0.Add(w.at), Channel: w.ch, Seq: uint64(i + 1),
			OrigLen: uint32(len(data[0])), PID: pid, Comm: comm, Service: w.service, Conn: w.conn,
			ClientPID: uint32(cli), ServerPID: uint32(srv), Data: data[0], Packet: i + 1,
		})
	}
	dr := decode.NewReader(&sliceSource{recs: recs}, decode.Options{})
	c := NewCapture()
	for {
		m, err := dr.Next()
		if errors.Is(err, io.EOF) {
			return c
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Err != nil {
			t.Fatalf("message %d: %v", m.Seq, m.Err)
		}
		c.Add(m)
	}
}

type sliceSource struct{ recs []*capfile.Record }

func (s *sliceSource) Next() (*capfile.Record, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}

// A fakeCluster is an in-memory CIB manager and attribute manager, enough for the
// exchanges the tests record: CIB register, query (sync and async), modify; attrd query.
type fakeCluster struct {
	mu      sync.Mutex
	cib     string // the CIB's configuration section
	attrs   map[string]string
	clients int
	silent  bool // answer nothing
	dials   atomic.Int32
	dialErr error
	sent    []string // requests received, in order
}

func (f *fakeCluster) dial(ctx context.Context, service string, opts qbipc.Options) (Conn, error) {
	f.dials.Add(1)
	if f.dialErr != nil {
		return nil, f.dialErr
	}
	f.mu.Lock()
	f.clients++
	id := fmt.Sprintf("live-client-%04d", f.clients)
	f.mu.Unlock()
	return &fakeConn{f: f, service: service, clientID: id, dialect: opts.Dialect,
		resp: make(chan []byte, 16), ev: make(chan []byte, 16), closed: make(chan struct{})}, nil
}

type fakeConn struct {
	f        *fakeCluster
	service  string
	clientID string
	dialect  qbipc.Dialect
	resp, ev chan []byte
	closed   chan struct{}
	once     sync.Once
	nextID   atomic.Int32
	evID     int32
}

func (c *fakeConn) NextID() int32   { return c.nextID.Add(1) }
func (c *fakeConn) MaxMsgSize() int { return 512 * 1024 }

func (c *fakeConn) Close() error {
	c.once.Do(func() { close(c.closed) })
	return nil
}

func (c *fakeConn) Recv(ctx context.Context) ([]byte, error)      { return c.recv(ctx, c.resp) }
func (c *fakeConn) RecvEvent(ctx context.Context) ([]byte, error) { return c.recv(ctx, c.ev) }

func (c *fakeConn) recv(ctx context.Context, ch chan []byte) ([]byte, error) {
	select {
	case m := <-ch:
		return m, nil
	case <-c.closed:
		return nil, qbipc.ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (c *fakeConn) Send(ctx context.Context, msg []byte) error {
	h, _, err := qbipc.ParseHeader(c.dialect, msg)
	if err != nil {
		return err
	}
	xml := string(msg[qbipc.HeaderSize : len(msg)-1])
	c.f.mu.Lock()
	c.f.sent = append(c.f.sent, xml)
	silent := c.f.silent
	c.f.mu.Unlock()
	if silent {
		return nil
	}
	for _, r := range c.handle([]byte(xml), h.Flags) {
		enc := qbipc.Encoder{Dialect: c.dialect}
		id, flags, ch := h.ID, qbipc.FlagServerFree, c.resp
		if r.event {
			c.evID++
			id, flags, ch = c.evID, qbipc.FlagServerEvent|qbipc.FlagServerFree, c.ev
		}
		out, err := enc.Encode(id, r.xml, flags)
		if err != nil {
			return err
		}
		ch <- out[0]
	}
	return nil
}

type fakeReply struct {
	event bool
	xml   string
}

func (c *fakeConn) handle(xml []byte, flags qbipc.Flags) []fakeReply {
	f := c.f
	f.mu.Lock()
	defer f.mu.Unlock()
	syncCall := flags&qbipc.FlagClientResponse != 0
	switch c.service {
	case "cib_ro", "cib_rw":
		op := pcmk.RootAttr(xml, "cib_op")
		if op == "register" {
			return []fakeReply{{false, fmt.Sprintf(`<cib_common_callback_worker cib_op="register" cib_clientid="%s"/>`, c.clientID)}}
		}
		rc := "0"
		if pcmk.RootAttr(xml, "cib_async_id") != c.clientID {
			rc = "-107" // not the id this connection was given
		}
		data := ""
		switch op {
		case "cib_query":
			data = "<cib_calldata>" + f.cib + "</cib_calldata>"
		case "cib_modify":
			if rc == "0" {
				f.cib = strings.Replace(f.cib, "</crm_config>", rootChild(xml)+"</crm_config>", 1)
			}
		}
		reply := fmt.Sprintf(`<cib-reply t="cib" cib_op="%s" cib_callid="%s" cib_clientid="%s" cib_rc="%s">%s</cib-reply>`,
			op, pcmk.RootAttr(xml, "cib_callid"), c.clientID, rc, data)
		return []fakeReply{{!syncCall, reply}}
	case "attrd":
		name := pcmk.RootAttr(xml, "attr_name")
		return []fakeReply{{false, fmt.Sprintf(`<build_query_reply t="attrd" subt="query" attr_name="%s"><node attr_host="node1" attr_value="%s"/></build_query_reply>`,
			name, f.attrs[name])}}
	}
	return nil
}

// rootChild returns the XML inside <cib_calldata> of a request, for cib_modify.
func rootChild(xml []byte) string {
	s := string(xml)
	i := strings.Index(s, "<cib_calldata>")
	j := strings.Index(s, "</cib_calldata>")
	if i < 0 || j < i {
		return ""
	}
	return s[i+len("<cib_calldata>") : j]
}

const testCIB = `<cib epoch="5" num_updates="2" admin_epoch="0" cib-last-written="Sat Mar  1 12:00:00 2025"><configuration><crm_config><cluster_property_set id="cib-bootstrap-options"><nvpair id="o-stonith" name="stonith-enabled" value="false"/></cluster_property_set></crm_config></configuration></cib>`

// cibadminQuery is what cibadmin -Q exchanges with cib_rw, recorded with client id recID.
func cibadminQuery(conn string, at time.Duration, recID, cib string) []wire {
	return []wire{
		{conn, "cib_rw", "cibadmin", capfile.ChannelRequest, 1, qbipc.FlagClientResponse,
			`<cib_command t="cib" cib_op="register" cib_clientname="cibadmin" cib_callopt="4096"/>`, at},
		{conn, "cib_rw", "", capfile.ChannelResponse, 1, qbipc.FlagClientResponse | qbipc.FlagServerFree,
			`<cib_common_callback_worker cib_op="register" cib_clientid="` + recID + `"/>`, at + 100*time.Microsecond},
		{conn, "cib_rw", "cibadmin", capfile.ChannelRequest, 2, 0,
			`<cib_command __name__="cib_command" t="cib" cib_async_id="` + recID + `" cib_op="cib_query" cib_callid="2" cib_callopt="0"/>`, at + 200*time.Microsecond},
		{conn, "cib_rw", "", capfile.ChannelEvent, 68, qbipc.FlagServerEvent | qbipc.FlagServerFree,
			`<cib-reply t="cib" cib_op="cib_query" cib_callid="2" cib_clientid="` + recID + `" cib_rc="0"><cib_calldata>` + cib + `</cib_calldata></cib-reply>`, at + 400*time.Microsecond},
	}
}

// crmAttributeSet is crm_attribute -n p -v 1 -t crm_config: register, then a sync modify.
func crmAttributeSet(conn string, at time.Duration, recID string) []wire {
	nv := `<cluster_property_set id="cib-bootstrap-options"><nvpair id="o-p" name="p" value="1"/></cluster_property_set>`
	return []wire{
		{conn, "cib_rw", "crm_attribute", capfile.ChannelRequest, 1, qbipc.FlagClientResponse,
			`<cib_command t="cib" cib_op="register" cib_clientname="crm_attribute" cib_callopt="4096"/>`, at},
		{conn, "cib_rw", "", capfile.ChannelResponse, 1, qbipc.FlagClientResponse | qbipc.FlagServerFree,
			`<cib_common_callback_worker cib_op="register" cib_clientid="` + recID + `"/>`, at + 100*time.Microsecond},
		{conn, "cib_rw", "crm_attribute", capfile.ChannelRequest, 2, qbipc.FlagClientResponse,
			`<cib_command t="cib" cib_async_id="` + recID + `" cib_op="cib_modify" cib_callid="2" cib_callopt="1052672"><cib_calldata>` + nv + `</cib_calldata></cib_command>`, at + 200*time.Microsecond},
		{conn, "cib_rw", "", capfile.ChannelResponse, 2, qbipc.FlagServerFree,
			`<cib-reply t="cib" cib_op="cib_modify" cib_callid="2" cib_clientid="` + recID + `" cib_rc="0"/>`, at + 900*time.Microsecond},
	}
}

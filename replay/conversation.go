package replay

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// A Capture is a recording rebuilt as the conversations of its client connections.
type Capture struct {
	Section       capfile.SectionInfo
	Conversations []*Conversation // in the order of their first request
	Stats         decode.Stats    // what the decoder saw, when read from a file

	conns   map[string]*Conversation
	maxSize map[string]uint32 // negotiated size from connect records, by connection key
	bySeq   map[uint64]*Exchange
}

// A Conversation is one client connection of the capture: its requests in order, each
// with the replies recorded for it.
type Conversation struct {
	Conn       string // libqb connection key, qb-<server pid>-<client pid>-<fd>-<random>
	Service    string
	ClientPID  uint32 // as the server saw it
	PID        uint32 // the client's pid as the recorder saw it (initial namespace)
	Comm       string // the client's command name
	Dialect    qbipc.Dialect
	MaxMsgSize int // negotiated at connection set-up, 0 when the capture does not say
	Exchanges  []*Exchange
}

// An Exchange is one recorded request and the replies that answered it, as decode
// paired them (decode.Message.ReplyTo): the response-channel reply or ack, and the
// replies that came as events (async CIB and fencer replies, controller replies after
// an ack, execd completions). Notifications are not part of it.
type Exchange struct {
	Conv     *Conversation
	Request  *decode.Message
	Response *decode.Message   // nil when none was recorded
	Events   []*decode.Message // in capture order
	Class    Class
}

// NewCapture returns an empty Capture for [Capture.Add].
func NewCapture() *Capture {
	return &Capture{
		conns:   make(map[string]*Conversation),
		maxSize: make(map[string]uint32),
		bySeq:   make(map[uint64]*Exchange),
	}
}

// ReadCapture reads a pcmk-trace capture file and rebuilds its conversations. Damaged
// messages are counted in Stats.Errors and left out; a file cut short (the recorder
// was killed) gives what it holds and an error wrapping capfile.ErrTruncated. The whole
// selection of requests and replies is held in memory.
func ReadCapture(r io.Reader) (*Capture, error) {
	cr, err := capfile.NewReader(r)
	if err != nil {
		return nil, err
	}
	var opts decode.Options
	opts.Lifecycle = true
	dr := decode.NewReader(cr, opts)
	c := NewCapture()
	c.Section = cr.Section()
	for {
		m, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			c.Stats = dr.Stats()
			return c, err
		}
		c.Add(m)
	}
	c.Stats = dr.Stats()
	return c, nil
}

// convKey identifies a client connection: the connection key and the client pid.
func convKey(m *decode.Message) string {
	return fmt.Sprintf("%s/%d", m.Conn, m.ClientPID)
}

// Add files one decoded message, in capture order: a request starts an exchange of its
// connection's conversation, a reply, ack or answering event (ReplyTo set) joins the
// exchange of its request. Connect records give the connection's maximum message size.
// Everything else (notifications, receive-side records, corosync traffic, loss records)
// is ignored.
func (c *Capture) Add(m *decode.Message) {
	if m.Kind == decode.KindConnect {
		c.maxSize[m.Conn] = m.MaxMsgSize
		return
	}
	if m.Kind != decode.KindMessage || m.RX {
		return
	}
	switch {
	case m.Channel == capfile.ChannelRequest && m.Role == decode.RoleRequest:
		if m.QBID < 0 {
			return // libqb control message
		}
		key := convKey(m)
		conv := c.conns[key]
		if conv == nil {
			conv = &Conversation{
				Conn: m.Conn, Service: m.Service, ClientPID: m.ClientPID, PID: m.PID, Comm: m.Comm,
				MaxMsgSize: int(c.maxSize[m.Conn]),
			}
			c.conns[key] = conv
			c.Conversations = append(c.Conversations, conv)
		}
		if conv.Dialect == 0 {
			conv.Dialect = m.Dialect
		}
		ex := &Exchange{Conv: conv, Request: m, Class: Classify(m)}
		conv.Exchanges = append(conv.Exchanges, ex)
		c.bySeq[m.Seq] = ex
	case m.ReplyTo != nil && (m.Channel == capfile.ChannelResponse || m.Channel == capfile.ChannelEvent):
		ex := c.bySeq[m.ReplyTo.Seq]
		if ex == nil {
			return
		}
		if m.Channel == capfile.ChannelResponse {
			if ex.Response == nil {
				ex.Response = m
			}
			return
		}
		ex.Events = append(ex.Events, m)
	}
}

// Daemon reports whether the conversation's client is a Pacemaker daemon (controld
// talking to cib_shm, attrd to cib_rw, ...) rather than a tool or another program.
func (cv *Conversation) Daemon() bool {
	return cv.Comm == "pacemakerd" || strings.HasPrefix(cv.Comm, "pacemaker-")
}

// Proxied reports whether the conversation relays a Pacemaker Remote node's client: the
// controller sends such requests with the proxied flag, and the daemon answers them with
// events flagged proxied_relay_response, which the replay takes as their responses.
func (cv *Conversation) Proxied() bool {
	for _, ex := range cv.Exchanges {
		if ex.Request.Flags&pcmk.FlagProxied != 0 {
			return true
		}
	}
	return false
}

// Replies returns the exchange's recorded replies: the response first, then the events.
func (ex *Exchange) Replies() []*decode.Message {
	var out []*decode.Message
	if ex.Response != nil {
		out = append(out, ex.Response)
	}
	return append(out, ex.Events...)
}

// RecordedLatency is the time from the request to its last recorded reply, or 0.
func (ex *Exchange) RecordedLatency() time.Duration {
	var d time.Duration
	for _, m := range ex.Replies() {
		if m.ReplyTo != nil && m.ReplyTo.Latency > d {
			d = m.ReplyTo.Latency
		}
	}
	return d
}

// lastReply is the time of the last recorded reply, or the request's time.
func (ex *Exchange) lastReply() time.Time {
	t := ex.Request.Time
	for _, m := range ex.Replies() {
		if m.Time.After(t) {
			t = m.Time
		}
	}
	return t
}

package decode

import (
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Kind says what a [Message] describes.
type Kind uint8

const (
	KindMessage    Kind = iota + 1 // one libqb message (all its parts)
	KindConnect                    // a connection was set up (only with Options.Lifecycle)
	KindDisconnect                 // a connection was torn down (only with Options.Lifecycle)
	KindLoss                       // the recorder lost Lost messages
	KindInvalid                    // the source could not produce a record (a damaged packet); Err says why
)

// String returns "message", "connect", "disconnect", "loss" or "invalid".
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindConnect:
		return "connect"
	case KindDisconnect:
		return "disconnect"
	case KindLoss:
		return "loss"
	case KindInvalid:
		return "invalid"
	}
	return ""
}

// Role is what a message is in the conversation (docs/protocol.md 7).
type Role uint8

const (
	RoleNone         Role = iota
	RoleRequest           // client -> server
	RoleReply             // the answer to a request, on the response or event channel
	RoleAck               // a response-channel <ack>/<nack>; for controld, pacemakerd and schedulerd the real reply follows as an event
	RoleNotification      // an event the receiver did not ask for (CIB and fencer notifications, execd lrmd_notify, ...)
	RoleEvent             // any other event, e.g. an execd completion that answers an earlier lrmd_rsc_exec
)

// String returns the JSON name of r: "request", "reply", "ack",
// "notification", "event", or "" for RoleNone.
func (r Role) String() string {
	switch r {
	case RoleRequest:
		return "request"
	case RoleReply:
		return "reply"
	case RoleAck:
		return "ack"
	case RoleNotification:
		return "notification"
	case RoleEvent:
		return "event"
	}
	return ""
}

// Pair links a reply, ack or answering event to its request.
type Pair struct {
	Seq     uint64        // Seq of the request
	Op      string        // the request's operation
	Latency time.Duration // this message's Time minus the request's Time
	By      string        // what matched: "qb_id", "cib_callid", "st_callid", "lrmd_callid", "reference", "order", "proxied_qb_id" or "proxied_order"
}

// Message is one decoded libqb message, or a loss or lifecycle record.
//
// Fields that come from the XML are empty when the message carried none,
// could not be decoded, or did not have the attribute.
type Message struct {
	Kind   Kind
	Seq    uint64    // capture order: the Seq of the record that completed the message
	Packet int       // that record's first packet in the capture file, from 1; 0 if unknown
	Time   time.Time // time of that record

	PID       uint32          // writer's pid
	Comm      string          // writer's command name
	Service   string          // libqb service: cib_rw, crmd, cpg, ...
	Channel   capfile.Channel // request, response or event
	ClientPID uint32
	ServerPID uint32
	Conn      string // connection key
	RX        bool   // seen on the receive side
	Node      string // cluster node the message was recorded on; "" when the capture does not say (capfile.Record.Node)

	// ClusterMsg ties the copies of one CPG multicast together: the same
	// on its send (a cpg request) and on its delivery (a cpg event) on every
	// node; "" for other messages and in captures that name no node.
	ClusterMsg string

	// libqb layer.
	QBID    int32 // message id (request id, reply-to id or event id)
	QBError int32 // error field of a 24-byte header
	Size    int   // bytes as sent: headers and payload, summed over parts

	// Pacemaker envelope.
	Dialect    Dialect
	Flags      Flags
	Compressed bool
	Parts      int    // records that made up the message (1 unless multipart)
	XML        []byte // decompressed, reassembled text without the trailing NUL
	XMLBytes   int    // length of the text as sent (without NUL); more than len(XML) when truncated
	Truncated  bool   // the capture holds only part of the message

	// From the root element of the XML.
	Root      string // element name: cib_command, create_request_adv, message, ...
	Op        string // operation: cib_op, st_op, lrmd_op, crm_task, task; for notifications subt; else Root
	T         string // t
	Subt      string // subt
	SysFrom   string // crm_sys_from
	SysTo     string // crm_sys_to
	HostTo    string // crm_host_to
	Src       string // src
	Reference string // reference
	CallID    string // cib_callid, st_callid or lrmd_callid
	ClientID  string // cib_clientid, st_clientid, lrmd_clientid, or the *_async_id echo
	RC        string // cib_rc, st_rc, lrmd_rc or rc
	Origin    string // origin, lrmd_origin or st_origin

	Role         Role
	ExpectsReply bool  // a request that should get a reply (flag or operation)
	ReplyTo      *Pair // the request answered, or nil
	pair         Pair  // what ReplyTo points to, saving an allocation

	// Proxied requests (the controller relaying a Pacemaker Remote client's
	// request; docs/remote.md).
	ProxiedFor string // the remote node it came from (lrmd_ipc_user)
	Relays     uint64 // Seq of the remote tool's request to pacemaker-remoted it relays, 0 if not in the capture or with Options.NoRelays

	// Loss records.
	Lost  uint32
	Cause capfile.LossCause

	// Connect records.
	MaxMsgSize uint32

	// Err is a *FormatError when the message could not be decoded; the
	// fields above hold what could be read.
	Err error

	rec *capfile.Record // the record XML is in, given back by Release (Options.Recycle)
	fam familyPlus1     // Service's family, found once per message; 0: not yet
	// With Options.CheckLater: XML awaits Reader.Check, and is at textBase
	// of its record's libqb message (-1: not there verbatim).
	unchecked bool
	textBase  int
}

// familyPlus1 is a pcmk.Family plus one, so that the zero value says
// "not looked up".
type familyPlus1 uint8

// family returns the family of m's service.
func (m *Message) family() pcmk.Family {
	if m.fam == 0 {
		return pcmk.ServiceFamily(m.Service)
	}
	return pcmk.Family(m.fam - 1)
}

// released holds the messages given back by Release.
var released sync.Pool

// Release gives m back to be reused for a later message of any Reader, once
// the caller is done with it: neither m nor its XML nor ReplyTo may be used
// afterwards (its strings may: they are copies). With Options.Recycle, the
// capture record its XML was read from goes back to capfile too, so a loop
// that formats each message and releases it allocates next to nothing per
// message. Release may be called in any goroutine. Releasing is optional;
// a message not released is garbage collected.
func (m *Message) Release() {
	if m.rec != nil {
		capfile.Recycle(m.rec)
	}
	*m = Message{}
	released.Put(m)
}

// ChannelName returns "request", "response", "event", or "" for c.
func ChannelName(c capfile.Channel) string {
	switch c {
	case capfile.ChannelRequest:
		return "request"
	case capfile.ChannelResponse:
		return "response"
	case capfile.ChannelEvent:
		return "event"
	}
	return ""
}

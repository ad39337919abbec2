package pcmk

import "encoding/binary"

// Header sizes. libqb puts every member on an 8-byte boundary, so a 4-byte
// field is followed by 4 bytes of padding.
const (
	RequestHeaderLen  = 16 // struct qb_ipc_request_header: id@0, size@8
	ResponseHeaderLen = 24 // struct qb_ipc_response_header: id@0, size@8, error@16
	EnvelopeLen       = 40 // pcmk__ipc_header_t: response header + 16 bytes
)

// Reserved libqb message ids: libqb's own control messages, never Pacemaker's.
const (
	MsgAuthenticate int32 = -1
	MsgNewEventSock int32 = -2
	MsgDisconnect   int32 = -3
)

// QBHeader is the libqb layer of a message.
type QBHeader struct {
	ID    int32 // request id, id of the request replied to, or event id
	Size  int32 // the whole message, this header included
	Error int32 // response header only
}

// ParseQBHeader reads a libqb header of headerLen bytes (RequestHeaderLen or
// ResponseHeaderLen) from b. It returns false if b is shorter than that.
func ParseQBHeader(b []byte, headerLen int) (QBHeader, bool) {
	if len(b) < headerLen {
		return QBHeader{}, false
	}
	h := QBHeader{
		ID:   int32(binary.LittleEndian.Uint32(b[0:])),
		Size: int32(binary.LittleEndian.Uint32(b[8:])),
	}
	if headerLen >= ResponseHeaderLen {
		h.Error = int32(binary.LittleEndian.Uint32(b[16:]))
	}
	return h, true
}

// ControlOp names a reserved libqb message id: "qb_authenticate",
// "qb_new_event_sock", "qb_disconnect", or "qb_control" for other
// negative ids.
func ControlOp(id int32) string {
	switch id {
	case MsgAuthenticate:
		return "qb_authenticate"
	case MsgNewEventSock:
		return "qb_new_event_sock"
	case MsgDisconnect:
		return "qb_disconnect"
	}
	return "qb_control"
}

package qbipc

import (
	"errors"
	"net"
)

var (
	// ErrDisconnected means the server went away: it closed the connection, exited or was
	// killed. The client is of no further use; dial again.
	ErrDisconnected = errors.New("qbipc: disconnected")

	// ErrFlowControl means the server asked clients to stop sending for now (libqb's
	// flow-control word is on, qb_ipcc_send would return EAGAIN). Retry later.
	ErrFlowControl = errors.New("qbipc: server flow control on")

	// ErrFull means the request ring or socket has no room for the message yet (EAGAIN in
	// libqb). Nothing was sent; retry once the server has read earlier requests.
	ErrFull = errors.New("qbipc: request channel full")

	// ErrMsgSize means a message exceeds the connection's negotiated maximum size
	// (EMSGSIZE in libqb). Nothing was sent.
	ErrMsgSize = errors.New("qbipc: message too large")

	// ErrUnauthorized means the server's credentials failed the peer check: it runs
	// neither as root nor as an allowed user or group (see Options.ServerUIDs).
	ErrUnauthorized = errors.New("qbipc: server not authorized")

	// ErrUnsupported is returned by Dial, DialInNamespace and NewClient where the
	// transport cannot run: it needs Linux (abstract sockets, SO_PASSCRED, futexes).
	ErrUnsupported = errors.New("qbipc: libqb IPC needs Linux")

	// ErrClosed is returned by operations on a client after Close.
	ErrClosed = net.ErrClosed

	// ErrEnvelope means a message does not carry a well-formed Pacemaker envelope.
	ErrEnvelope = errors.New("qbipc: malformed Pacemaker message")

	errCorrupt = errors.New("qbipc: corrupt ring")
)

// Retryable reports whether err says "not now" rather than "never": flow control or a
// full request channel. The message was not sent and may be sent again unchanged.
func Retryable(err error) bool {
	return errors.Is(err, ErrFlowControl) || errors.Is(err, ErrFull)
}

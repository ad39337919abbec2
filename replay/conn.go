package replay

import (
	"context"

	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// Conn is what a replay needs of a connection to a daemon; *qbipc.Client is one. Tests
// pass an in-memory daemon instead.
type Conn interface {
	// Send sends one libqb message (header and payload), or returns an error for which
	// qbipc.Retryable tells whether to try again.
	Send(ctx context.Context, msg []byte) error
	// Recv and RecvEvent return the next message of the response and the event channel;
	// after Close they return qbipc.ErrClosed.
	Recv(ctx context.Context) ([]byte, error)
	RecvEvent(ctx context.Context) ([]byte, error)
	NextID() int32
	MaxMsgSize() int
	Close() error
}

// DialQB adapts a qbipc dial function, such as qbipc.Dial or a closure around
// qbipc.DialInNamespace, to Options.Dial.
func DialQB(dial func(ctx context.Context, service string, opts qbipc.Options) (*qbipc.Client, error)) func(context.Context, string, qbipc.Options) (Conn, error) {
	return func(ctx context.Context, service string, opts qbipc.Options) (Conn, error) {
		c, err := dial(ctx, service, opts)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}

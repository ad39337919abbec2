// Package qbipc is a libqb IPC client in pure Go, for talking to Pacemaker's daemons
// without cgo. It connects to a service's abstract socket, runs libqb's handshake (with
// the server's credentials and Pacemaker's peer check), and then exchanges messages over
// whichever transport the server picked: shared-memory ring buffers with their
// process-shared glibc semaphores, or datagram sockets. A connection has a response
// channel (replies to requests, read with [Client.Recv]) and an event channel
// (notifications, and the replies daemons send as events, read with [Client.RecvEvent],
// [Client.Events] or by polling [Client.Fd]). Messages are whole libqb messages; the
// Pacemaker envelope of both dialects (2.1.x/3.0.0 with bzip2 compression, 3.0.1+ with
// multipart messages) is built by [Encoder] and taken apart by [Assembler], both package
// pcmk's wire format, and [Client.Request] does both around a request and its reply.
// Facts and byte layouts come from docs/protocol.md. The package depends on no other
// package of the module but pcmk.
//
// Usage, for a daemon in a sandbox whose init is pid 4242:
//
//	c, err := qbipc.DialInNamespace(ctx, 4242, "cib_ro", qbipc.Options{
//		Dialect:    qbipc.DialectA, // Pacemaker 2.1.5
//		MaxMsgSize: 512 * 1024,
//	})
//	if err != nil {
//		return err
//	}
//	defer c.Close()
//	reg, err := c.Request(ctx, `<cib_command t="cib" cib_op="register" cib_clientname="me" cib_callopt="4096"/>`,
//		qbipc.FlagClientResponse)
//	...
//	for msg := range c.Events() { // notifications, until Close or a lost connection
//		...
//	}
//
// Errors callers branch on: [ErrDisconnected] (the daemon went away), [ErrFlowControl]
// and [ErrFull] (retry later; see [Retryable]), [ErrMsgSize], [ErrUnauthorized],
// [ErrClosed]; deadlines and cancellation come from the context.
//
// The transport needs Linux (abstract sockets, SO_PASSCRED, futexes); on other systems
// the package builds, its envelope code works, and Dial returns [ErrUnsupported].
package qbipc

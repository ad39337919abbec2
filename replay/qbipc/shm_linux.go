package qbipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"unsafe"

	"golang.org/x/sys/unix"
)

// shm is the shared-memory transport: three rings, and the setup socket for wake-ups.
type shm struct {
	c             *Client
	req, resp, ev *ring
	wakeByte      [1]byte // send's wake-up byte, under Client.sendMu
}

func newSHM(c *Client, r setupResponse) (*shm, error) {
	t := &shm{c: c}
	var err error
	for _, ch := range []struct {
		ring **ring
		name string
	}{{&t.req, r.request}, {&t.resp, r.response}, {&t.ev, r.event}} {
		if *ch.ring, err = openRing(c.opts.Root, ch.name); err != nil {
			t.close()
			return nil, fmt.Errorf("open ring: %w", err)
		}
	}
	return t, nil
}

// send writes one chunk into the request ring, posts its semaphore, and sends the
// one-byte wake-up on the setup socket: the server polls only that socket.
func (t *shm) send(ctx context.Context, hdr, body []byte) error {
	// qb_ipc_shm_fc_get: both ends must still hold the ring, and the server's
	// flow-control word must be off (libqb's default fc_enable_max is 1).
	if n := t.req.refCount(); n != 2 {
		return fmt.Errorf("request ring has %d users, want 2: %w", n, ErrDisconnected)
	}
	if fc := t.req.userData(); fc > 0 && fc <= 1 {
		return ErrFlowControl
	}
	// Once the chunk is in the ring the wake-up must follow: a context that has ended
	// stops the send before.
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.req.write(hdr, body); err != nil {
		return err
	}
	// The byte's value means nothing; libqb sends the low byte of the length. It is
	// one send(2) on the descriptor, as libqb's (write(2) also goes through the file
	// layer and its security hooks). Only a full socket buffer (or a signal) takes the
	// poller's connection, whose Write waits for room under ctx.
	// MSG_DONTWAIT never blocks, so the call skips the runtime's system call
	// bookkeeping (RawSyscall), as a C client has none.
	t.wakeByte[0] = byte(len(hdr) + len(body))
	var err error
	if _, _, errno := unix.RawSyscall6(unix.SYS_SENDTO, uintptr(t.c.setupFd), uintptr(unsafe.Pointer(&t.wakeByte[0])), 1,
		unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT, 0, 0); errno != 0 {
		err = errno
	}
	if err == unix.EAGAIN || err == unix.EINTR {
		var pc *net.UnixConn
		if pc, _, err = t.c.pollConn(); err == nil {
			defer t.c.wdl.watch(ctx)()
			_, err = pc.Write(t.wakeByte[:])
		}
	}
	if err != nil {
		return fmt.Errorf("send wake-up: %w", ctxErr(ctx, err))
	}
	return nil
}

// recv takes the response ring's semaphore, which the server posts after each response
// (no byte comes on the socket), and reads the chunk. Waits are bounded so a server that
// died, or Close, is noticed.
func (t *shm) recv(ctx context.Context, dst []byte) ([]byte, error) {
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			t.resp.sem.wakeAll()
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired
			}
		}()
	}
	for {
		if t.resp.sem.wait(slice(ctx)) {
			return t.resp.read(dst)
		}
		if t.c.closed.Load() {
			return nil, ErrClosed
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if t.c.hungUp() {
			// A response written just before the server went away is still good.
			if t.resp.sem.tryWait() {
				return t.resp.read(dst)
			}
			return nil, fmt.Errorf("server hung up: %w", ErrDisconnected)
		}
	}
}

// recvEvent waits for a wake-up byte on the setup socket, reads the event ring's chunk,
// then consumes the byte, in libqb's order (the server posts the semaphore before it
// sends the byte, and a failed read leaves the byte for the next call).
func (t *shm) recvEvent(ctx context.Context) ([]byte, error) {
	_, raw, err := t.c.pollConn()
	if err != nil {
		return nil, err
	}
	defer t.c.rdl.watch(ctx)()
	var one [1]byte
	for {
		var n int
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), one[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			return rerr != unix.EAGAIN
		})
		if err != nil {
			return nil, ctxErr(ctx, err)
		}
		if rerr == unix.EINTR {
			continue
		}
		if rerr != nil {
			return nil, rerr
		}
		if n == 0 {
			return nil, fmt.Errorf("server closed the connection: %w", ErrDisconnected)
		}
		if !t.ev.sem.tryWait() {
			if err := t.waitEvent(ctx); err != nil {
				return nil, err
			}
		}
		msg, err := t.ev.read(nil)
		if err != nil {
			return nil, err
		}
		if err := raw.Read(func(fd uintptr) bool {
			_, _, rerr = unix.Recvfrom(int(fd), one[:], unix.MSG_DONTWAIT)
			return rerr != unix.EAGAIN
		}); err != nil {
			return msg, ctxErr(ctx, err)
		}
		return msg, nil
	}
}

// waitEvent waits for the event semaphore after a wake-up byte arrived without it (a
// server that sends the byte first); it has taken a unit when it returns nil.
func (t *shm) waitEvent(ctx context.Context) error {
	for !t.ev.sem.wait(slice(ctx)) {
		switch {
		case t.c.closed.Load():
			return ErrClosed
		case ctx.Err() != nil:
			return ctx.Err()
		case t.c.hungUp():
			return fmt.Errorf("server hung up: %w", ErrDisconnected)
		}
	}
	return nil
}

func (t *shm) pollFd() int { return t.c.setupFd }

// wake makes blocked receivers look at the closed flag.
func (t *shm) wake() {
	for _, r := range []*ring{t.resp, t.ev} {
		if r != nil {
			r.sem.wakeAll()
		}
	}
}

func (t *shm) close() error {
	var errs []error
	for _, r := range []**ring{&t.req, &t.resp, &t.ev} {
		if *r != nil {
			errs = append(errs, (*r).close())
			*r = nil
		}
	}
	return errors.Join(errs...)
}

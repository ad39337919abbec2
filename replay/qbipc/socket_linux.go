package qbipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The socket transport's control file holds one {int32 sent; int32 flow_control} record
// per channel: request, response, event. "sent" counts queued datagrams (incremented by
// the sender, decremented by the receiver); the request record's flow_control is the
// server's flow-control word.
const (
	ctlSize     = 24
	ctlReqSent  = 0
	ctlReqFC    = 4
	ctlRespSent = 8
	ctlEvSent   = 16
)

// sock is the socket transport: two connected datagram sockets, one message per
// datagram, plus the shared control file.
type sock struct {
	c       *Client
	ctl     []byte
	ctlPath string // as the server named it, without Root
	req, ev *os.File
	reqRaw  syscall.RawConn
	evRaw   syscall.RawConn
	respBuf []byte
	evBuf   []byte
}

// newSocket attaches to a socket-transport connection as libqb's qb_ipcc_us_connect
// does: map the control file, then bind "<base>-response" and connect it to the
// server's "<base>-request" (requests and responses share it), and bind "<base>-event"
// and connect it to "<base>-event-tx". The server connects back on its first send.
func newSocket(c *Client, r setupResponse) (_ *sock, err error) {
	t := &sock{c: c, ctlPath: r.request}
	defer func() {
		if err != nil {
			t.close()
		}
	}()
	f, err := os.OpenFile(c.opts.Root+r.request, os.O_RDWR, 0)
	if err != nil {
		return nil, fmt.Errorf("open control file: %w", err)
	}
	t.ctl, err = unix.Mmap(int(f.Fd()), 0, ctlSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("map control file %s: %w", r.request, err)
	}
	max := c.maxMsgSize
	if t.req, err = dgramPair(c.opts.NetNS, r.response, "response", "request", max); err != nil {
		return nil, err
	}
	if t.ev, err = dgramPair(c.opts.NetNS, r.response, "event", "event-tx", max); err != nil {
		return nil, err
	}
	if t.reqRaw, err = t.req.SyscallConn(); err != nil {
		return nil, err
	}
	if t.evRaw, err = t.ev.SyscallConn(); err != nil {
		return nil, err
	}
	// One byte more than the maximum, to tell a full-size datagram from a truncated one.
	t.respBuf = make([]byte, max+1)
	t.evBuf = make([]byte, max+1)
	return t, nil
}

// dgramPair creates a datagram socket bound to "<base>-<local>" and connected to
// "<base>-<remote>", both abstract, and returns it as a pollable file.
func dgramPair(netns, base, local, remote string, max int) (*os.File, error) {
	fd, err := socketIn(netns, unix.SOCK_DGRAM)
	if err != nil {
		return nil, fmt.Errorf("create %s socket: %w", local, err)
	}
	if err := bindAbstract(fd, base+"-"+local); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("bind %s-%s: %w", base, local, err)
	}
	if err := connectAbstract(fd, base+"-"+remote); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("connect %s-%s: %w", base, remote, err)
	}
	// libqb's set_sock_size: raise both buffers to the message size when smaller.
	for _, opt := range []int{unix.SO_SNDBUF, unix.SO_RCVBUF} {
		if v, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, opt); err == nil && v <= max {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, max)
		}
	}
	return os.NewFile(uintptr(fd), base+"-"+local), nil
}

func (t *sock) counter(off int) *int32 { return (*int32)(unsafe.Pointer(&t.ctl[off])) }

// send sends the message as one datagram. A full socket gives ErrFull (libqb returns
// EAGAIN to its caller too).
func (t *sock) send(ctx context.Context, hdr, body []byte) error {
	if fc := atomic.LoadInt32(t.counter(ctlReqFC)); fc > 0 && fc <= 1 {
		return ErrFlowControl
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	var serr error
	if err := t.reqRaw.Control(func(fd uintptr) {
		for {
			_, serr = unix.SendmsgBuffers(int(fd), [][]byte{hdr, body}, nil, nil, unix.MSG_NOSIGNAL|unix.MSG_DONTWAIT)
			if serr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	switch {
	case serr == unix.EAGAIN || serr == unix.ENOBUFS:
		return ErrFull
	case serr != nil:
		return serr
	}
	atomic.AddInt32(t.counter(ctlReqSent), 1)
	return nil
}

func (t *sock) recv(ctx context.Context, dst []byte) ([]byte, error) {
	msg, err := t.recvFrom(ctx, t.req, t.reqRaw, t.respBuf, dst)
	if err == nil {
		atomic.AddInt32(t.counter(ctlRespSent), -1)
	}
	return msg, err
}

func (t *sock) recvEvent(ctx context.Context) ([]byte, error) {
	msg, err := t.recvFrom(ctx, t.ev, t.evRaw, t.evBuf, nil)
	if err == nil {
		atomic.AddInt32(t.counter(ctlEvSent), -1)
	}
	return msg, err
}

// recvFrom reads one datagram into buf and appends it to dst (a new slice if dst is nil),
// in bounded waits between which it checks ctx and the setup socket: a dead server's
// datagram socket does not wake its peers.
func (t *sock) recvFrom(ctx context.Context, f *os.File, raw syscall.RawConn, buf, dst []byte) ([]byte, error) {
	var cancelled chan struct{}
	if ctx.Done() != nil {
		cancelled = make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			f.SetReadDeadline(aLongTimeAgo)
			close(cancelled)
		})
		defer func() {
			if !stop() {
				<-cancelled
			}
		}()
	}
	for {
		f.SetReadDeadline(time.Now().Add(slice(ctx)))
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var n int
		var rerr error
		err := raw.Read(func(fd uintptr) bool {
			n, _, rerr = unix.Recvfrom(int(fd), buf, unix.MSG_DONTWAIT|unix.MSG_TRUNC)
			return rerr != unix.EAGAIN
		})
		switch {
		case err == nil && rerr == unix.EINTR:
			continue
		case err == nil && rerr != nil:
			return nil, rerr
		case err == nil && n >= len(buf):
			return nil, fmt.Errorf("datagram of %d bytes or more, maximum %d: %w", n, len(buf)-1, ErrMsgSize)
		case err == nil:
			return append(dst, buf[:n]...), nil
		case !errors.Is(err, os.ErrDeadlineExceeded):
			return nil, err
		case t.c.closed.Load():
			return nil, ErrClosed
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case t.c.hungUp():
			return nil, fmt.Errorf("server hung up: %w", ErrDisconnected)
		}
	}
}

func (t *sock) pollFd() int {
	fd := -1
	t.evRaw.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// wake unblocks receivers at once; they then see the closed flag.
func (t *sock) wake() {
	for _, f := range []*os.File{t.req, t.ev} {
		if f != nil {
			f.SetReadDeadline(aLongTimeAgo)
		}
	}
}

// close releases the sockets and the control file and, as libqb's client does, removes
// the control file and (if then empty) its directory.
func (t *sock) close() error {
	var errs []error
	for _, f := range []**os.File{&t.ev, &t.req} {
		if *f != nil {
			errs = append(errs, (*f).Close())
			*f = nil
		}
	}
	if t.ctl != nil {
		errs = append(errs, unix.Munmap(t.ctl))
		t.ctl = nil
		path := t.c.opts.Root + t.ctlPath
		os.Remove(path)
		os.Remove(filepath.Dir(path))
	}
	return errors.Join(errs...)
}

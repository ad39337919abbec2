package qbipc

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Dial connects to the libqb IPC service (the abstract socket name, e.g. "cib_ro") and
// returns a client ready to send. ctx bounds the connection set-up only. Servers that
// libqb's force-filesystem-sockets file moves to filesystem sockets are not supported.
func Dial(ctx context.Context, service string, opts Options) (*Client, error) {
	fd, err := socketIn(opts.NetNS, unix.SOCK_STREAM)
	if err != nil {
		return nil, fmt.Errorf("dial %s: create socket: %w", service, err)
	}
	for {
		err = connectAbstract(fd, service)
		if err != unix.EINTR && err != unix.EAGAIN {
			break
		}
		// EAGAIN: the listen backlog is full; try again until ctx says stop.
		if ctx.Err() != nil {
			break
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err != nil {
		unix.Close(fd)
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		return nil, fmt.Errorf("dial %s: %w", service, err)
	}
	f := os.NewFile(uintptr(fd), "qbipc-setup-"+service)
	c, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", service, err)
	}
	return NewClient(ctx, c.(*net.UnixConn), service, opts)
}

// DialInNamespace is Dial for a daemon in the namespaces of process pid (for example a
// sandboxed cluster's init): Root defaults to /proc/PID/root and NetNS to
// /proc/PID/ns/net.
func DialInNamespace(ctx context.Context, pid int, service string, opts Options) (*Client, error) {
	p := "/proc/" + strconv.Itoa(pid)
	if opts.Root == "" {
		opts.Root = p + "/root"
	}
	if opts.NetNS == "" {
		opts.NetNS = p + "/ns/net"
	}
	return Dial(ctx, service, opts)
}

// NewClient runs the libqb handshake on conn, a stream socket connected to the service's
// listening socket, checks the server's credentials and attaches to the channels the
// server set up. The client owns conn from then on, also when NewClient fails.
func NewClient(ctx context.Context, conn *net.UnixConn, service string, opts Options) (*Client, error) {
	c, err := newClient(ctx, conn, service, opts)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("dial %s: %w", service, err)
	}
	return c, nil
}

func newClient(ctx context.Context, conn *net.UnixConn, service string, opts Options) (*Client, error) {
	want := opts.MaxMsgSize
	if want <= 0 {
		want = DefaultMaxMsgSize
	}
	// libqb raises the request to the setup response's size.
	want = max(want, setupResponseSize)
	resp, cred, err := handshake(ctx, conn, uint32(want))
	if err != nil {
		return nil, err
	}
	if resp.errno != 0 {
		return nil, fmt.Errorf("server refused the connection: %w", syscall.Errno(-resp.errno))
	}
	if cred == nil {
		return nil, fmt.Errorf("setup response without SCM_CREDENTIALS: %w", ErrUnauthorized)
	}
	if err := checkPeer(&opts, cred.Pid, cred.Uid, cred.Gid); err != nil {
		return nil, err
	}
	// Keep a descriptor of the socket outside the poller; closing conn takes the socket
	// out of the poller's epoll set.
	setupFd, err := dupFd(conn)
	if err != nil {
		return nil, err
	}
	conn.Close()
	c := &Client{
		service: service, opts: opts, setupFd: setupFd,
		transport: resp.transport, maxMsgSize: int(resp.maxMsgSize),
		pid: cred.Pid, uid: cred.Uid, gid: cred.Gid,
	}
	c.respAsm.Dialect, c.evAsm.Dialect = opts.Dialect, opts.Dialect
	switch resp.transport {
	case TransportSHM:
		c.t, err = newSHM(c, resp)
	case TransportSocket:
		c.t, err = newSocket(c, resp)
	default:
		err = fmt.Errorf("server picked transport %v: %w", resp.transport, syscall.ENOTSUP)
	}
	if err != nil {
		unix.Close(setupFd)
		return nil, err
	}
	c.closeCtx, c.cancel = context.WithCancel(context.Background())
	return c, nil
}

// dupFd returns a close-on-exec duplicate of conn's descriptor.
func dupFd(conn syscall.Conn) (int, error) {
	raw, err := conn.SyscallConn()
	if err != nil {
		return -1, err
	}
	fd, derr := -1, error(nil)
	if err := raw.Control(func(f uintptr) { fd, derr = unix.FcntlInt(f, unix.F_DUPFD_CLOEXEC, 0) }); err != nil {
		return -1, err
	}
	return fd, derr
}

// pollConn returns the setup socket as a connection of the runtime's poller, made on
// first use; the caller holds the shared lock (see enter).
func (c *Client) pollConn() (*net.UnixConn, syscall.RawConn, error) {
	c.pcMu.Lock()
	defer c.pcMu.Unlock()
	if c.pc != nil {
		return c.pc, c.pcRaw, nil
	}
	if c.closed.Load() {
		return nil, nil, ErrClosed
	}
	fd, err := unix.FcntlInt(uintptr(c.setupFd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	f := os.NewFile(uintptr(fd), "qbipc-setup-"+c.service)
	conn, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, nil, err
	}
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	c.pc, c.pcRaw = conn.(*net.UnixConn), raw
	c.wdl, c.rdl = newDeadline(c.pc.SetWriteDeadline), newDeadline(c.pc.SetReadDeadline)
	return c.pc, c.pcRaw, nil
}

// hungUp reports whether the server closed its end of the setup socket. POLLIN alone is
// not hang-up: it means a wake-up byte for an event. The caller holds the shared lock.
func (c *Client) hungUp() bool {
	pfd := []unix.PollFd{{Fd: int32(c.setupFd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(pfd, 0)
	if err != nil {
		return err != unix.EINTR
	}
	return n > 0 && pfd[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR|unix.POLLNVAL) != 0
}

// closeFd closes the setup socket's descriptor.
func closeFd(fd int) error { return unix.Close(fd) }

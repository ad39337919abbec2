package qbipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
)

// DefaultMaxMsgSize is the buffer size a client requests when Options.MaxMsgSize is 0:
// 128 KiB, Pacemaker's default. Pacemaker 2.1.x and 3.0.0 CIB clients ask for 512 KiB.
const DefaultMaxMsgSize = 128 * 1024

// Options configures a connection. The zero value connects in the caller's namespaces
// with Pacemaker's peer check against the caller's /etc/passwd and /etc/group.
type Options struct {
	// MaxMsgSize is the message size to request; the server may raise it (see
	// Client.MaxMsgSize). 0 means DefaultMaxMsgSize.
	MaxMsgSize int

	// Root prefixes every file path the server hands out (ring and control files under
	// /dev/shm) and the passwd and group files of the peer check. Set it to
	// /proc/PID/root to reach a daemon in another mount namespace.
	Root string

	// NetNS is the network namespace file (/proc/PID/ns/net) whose abstract sockets to
	// use; empty means the caller's. Abstract socket names are per network namespace.
	NetNS string

	// ServerUIDs and ServerGIDs are the server credentials accepted besides uid 0:
	// the server must run as root, as one of these users, or in one of these groups,
	// as crm_ipc_is_authentic_process requires. When both are nil, the uid of user
	// hacluster and the gids of group haclient and of hacluster's primary group are
	// read from Root's /etc/passwd and /etc/group.
	ServerUIDs []uint32
	ServerGIDs []uint32

	// SkipPeerCheck accepts any server credentials.
	SkipPeerCheck bool

	// Dialect is the Pacemaker envelope Request and RecvEventMessage use.
	Dialect Dialect

	// Compress bzip2-compresses (block size 4, as Pacemaker does) dialect-A payloads
	// too large to send as text; nil means pcmk.Compress.
	Compress func(text []byte) ([]byte, error)
}

// A Client is a connection to one libqb IPC service, over shared memory or sockets,
// whichever the server picked. Send, Recv and RecvEvent may be called from different
// goroutines; calls of one kind are serialized.
type Client struct {
	service string
	opts    Options
	// setupFd is the setup socket, out of the runtime's network poller: a socket in an
	// epoll set costs its peer a callback each time it reads the wake-up byte, on the
	// server's side of every round trip (libqb's C client polls only while it waits).
	// Closed by Close under mu held exclusively.
	setupFd int
	// pc is the setup socket as a connection of the poller, made by pollConn for the
	// calls that wait on the socket (events, a full socket buffer); wdl and rdl apply
	// contexts to its write and read side.
	pcMu       sync.Mutex
	pc         *net.UnixConn
	pcRaw      syscall.RawConn
	wdl, rdl   *deadline
	transport  Transport
	maxMsgSize int
	pid        int32
	uid, gid   uint32
	t          transport

	closed atomic.Bool
	// mu is held shared while mapped memory is in use and exclusively by Close to unmap.
	mu                   sync.RWMutex
	sendMu, recvMu, evMu sync.Mutex
	closeCtx             context.Context
	cancel               context.CancelFunc
	wg                   sync.WaitGroup
	closeOnce            sync.Once
	closeErr             error
	evOnce               sync.Once
	evCh                 chan []byte
	evDone               chan struct{} // closed when the Events goroutine ends
	evErr                error         // why; set before evDone closes
	evStarted            atomic.Bool
	nextID               atomic.Int32
	respAsm, evAsm       Assembler
	sendHdr              [RequestHeaderSize]byte // Send's copy of the header, under sendMu
	reqBuf               []byte                  // Request's message buffer, under recvMu
}

// transport is what differs between shared memory and sockets.
type transport interface {
	send(ctx context.Context, hdr, body []byte) error
	recv(ctx context.Context, dst []byte) ([]byte, error) // appends to dst, or a new slice if nil
	recvEvent(ctx context.Context) ([]byte, error)
	pollFd() int
	wake()
	close() error
}

// Service is the name the client dialed.
func (c *Client) Service() string { return c.service }

// Transport is the transport the server picked.
func (c *Client) Transport() Transport { return c.transport }

// MaxMsgSize is the negotiated maximum message size, in bytes, of every channel.
func (c *Client) MaxMsgSize() int { return c.maxMsgSize }

// Server returns the server's credentials from the handshake. The pid is as seen in the
// caller's PID namespace (0 if the server's process is not visible there).
func (c *Client) Server() (pid, uid, gid int) { return int(c.pid), int(c.uid), int(c.gid) }

// Fd returns the descriptor to poll for events, as qb_ipcc_fd_get does: readable means
// an event is ready for RecvEvent. Over shared memory it is the setup socket, which is
// also readable once the server hung up; over sockets it is the event socket, which
// does not tell about hang-up. It stays owned by the client.
func (c *Client) Fd() int { return c.t.pollFd() }

// NextID returns a new request id: 1, 2, … per client. Request uses it; callers that
// build messages themselves may too.
func (c *Client) NextID() int32 { return c.nextID.Add(1) }

// Send sends one message: a libqb request header (id at 0, size at 8) and its payload.
// It fills in the size at offset 8 in what it sends; msg itself is not modified. It
// returns ErrFlowControl or ErrFull when the server cannot take the message now,
// ErrMsgSize when msg exceeds MaxMsgSize, and ErrDisconnected when the server is gone.
func (c *Client) Send(ctx context.Context, msg []byte) error {
	if len(msg) < RequestHeaderSize {
		return fmt.Errorf("send: %d-byte message shorter than the %d-byte header: %w", len(msg), RequestHeaderSize, ErrEnvelope)
	}
	if len(msg) > c.maxMsgSize {
		return fmt.Errorf("send: %d-byte message, maximum %d: %w", len(msg), c.maxMsgSize, ErrMsgSize)
	}
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	hdr := c.sendHdr[:]
	copy(hdr, msg)
	binary.LittleEndian.PutUint32(hdr[8:], uint32(len(msg)))
	if !c.enter() {
		return ErrClosed
	}
	defer c.mu.RUnlock()
	if err := c.t.send(ctx, hdr, msg[RequestHeaderSize:]); err != nil {
		return c.wrap("send", err)
	}
	return nil
}

// Recv returns the next message on the response channel (replies to requests), waiting
// until one arrives, ctx ends, the server goes away (ErrDisconnected) or the client is
// closed (ErrClosed).
func (c *Client) Recv(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	return c.recv(ctx, nil)
}

// recv appends the next response to dst, or returns it in a new slice if dst is nil.
func (c *Client) recv(ctx context.Context, dst []byte) ([]byte, error) {
	if !c.enter() {
		return nil, ErrClosed
	}
	defer c.mu.RUnlock()
	msg, err := c.t.recv(ctx, dst)
	return msg, c.wrap("receive", err)
}

// RecvEvent returns the next message on the event channel (notifications and the
// replies servers send as events), waiting like Recv. It must not be mixed with Events.
func (c *Client) RecvEvent(ctx context.Context) ([]byte, error) {
	if c.evStarted.Load() {
		return nil, fmt.Errorf("receive event %s: events are being delivered on the Events channel", c.service)
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	return c.recvEvent(ctx)
}

func (c *Client) recvEvent(ctx context.Context) ([]byte, error) {
	if !c.enter() {
		return nil, ErrClosed
	}
	defer c.mu.RUnlock()
	msg, err := c.t.recvEvent(ctx)
	return msg, c.wrap("receive event", err)
}

// Events returns a channel that delivers every event message, read by a goroutine the
// first call starts. The channel is closed when the client is closed or the connection
// fails; Err then tells why. Use either Events or RecvEvent, not both.
func (c *Client) Events() <-chan []byte {
	c.evOnce.Do(func() {
		c.evStarted.Store(true)
		c.evCh = make(chan []byte)
		c.evDone = make(chan struct{})
		if c.closed.Load() {
			c.evErr = ErrClosed
			close(c.evDone)
			close(c.evCh)
			return
		}
		c.wg.Add(1)
		go c.readEvents()
	})
	return c.evCh
}

func (c *Client) readEvents() {
	defer c.wg.Done()
	defer close(c.evCh)
	c.evMu.Lock()
	defer c.evMu.Unlock()
	for {
		msg, err := c.recvEvent(c.closeCtx)
		if err == nil {
			select {
			case c.evCh <- msg:
				continue
			case <-c.closeCtx.Done():
			}
		}
		if err == nil || c.closed.Load() {
			err = ErrClosed
		}
		c.evErr = err
		close(c.evDone)
		return
	}
}

// Err returns why the Events channel closed: ErrClosed after Close, or the connection
// error. It is nil while the channel is open.
func (c *Client) Err() error {
	if !c.evStarted.Load() {
		return nil
	}
	select {
	case <-c.evDone:
		return c.evErr
	default:
		return nil
	}
}

// Close disconnects: it closes the setup socket (the server then removes the
// connection's files), releases the channels and unmaps the rings. Blocked calls return
// ErrClosed. Close waits for them and for the Events goroutine.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closed.Store(true)
		c.cancel()
		c.t.wake()
		// Closing the poller's connection wakes calls blocked on it; no new one is made
		// once closed is set.
		var err error
		c.pcMu.Lock()
		if c.pc != nil {
			err = c.pc.Close()
		}
		c.pcMu.Unlock()
		c.mu.Lock()
		if e := closeFd(c.setupFd); err == nil {
			err = e
		}
		if e := c.t.close(); err == nil {
			err = e
		}
		c.mu.Unlock()
		c.wg.Wait()
		if err != nil {
			c.closeErr = fmt.Errorf("close %s: %w", c.service, err)
		}
	})
	return c.closeErr
}

// enter takes the shared lock unless the client is closed.
func (c *Client) enter() bool {
	c.mu.RLock()
	if c.closed.Load() {
		c.mu.RUnlock()
		return false
	}
	return true
}

// wrap names the operation and normalizes errors of closed and broken sockets.
func (c *Client) wrap(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case c.closed.Load() || errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrClosed):
		return ErrClosed
	case errors.Is(err, ErrDisconnected):
	case errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ENOTCONN):
		err = fmt.Errorf("%w: %w", ErrDisconnected, err)
	}
	return fmt.Errorf("%s %s: %w", op, c.service, err)
}

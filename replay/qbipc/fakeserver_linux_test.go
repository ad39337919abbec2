package qbipc

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// fakeServer plays the server side of one libqb connection, with rings (or sockets) it
// creates in a temporary directory, so the client runs end to end without a daemon.
type fakeServer struct {
	t         testing.TB
	transport Transport
	max       int
	dir       string
	conn      *net.UnixConn // server end of the setup socket
	cred      *unix.Ucred   // credentials to send; nil means the process's own
	errno     int32         // setup response error

	// manual: requests are left for the test to read with readRequest.
	manual bool
	// deaf, if set, keeps the server from reading wake-up bytes until it is closed.
	deaf    chan struct{}
	handler func(req []byte) []byte   // reply to a request; nil means no reply
	replies func(req []byte) [][]byte // several replies; overrides handler

	req, resp, ev *ring // shared memory

	ctl                []byte // socket transport
	base               string
	reqFd, evFd        int
	respConn, evConned bool

	ready   chan struct{} // closed after the handshake, which sets the fields above
	mu      sync.Mutex
	handled [][]byte
	wg      sync.WaitGroup
	gone    atomic.Bool
}

func echo(req []byte) []byte { return req }

// newFake starts a fake server and returns it with the client end of its setup socket.
func newFake(t testing.TB, transport Transport, max int) (*fakeServer, *net.UnixConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	toConn := func(fd int) *net.UnixConn {
		f := os.NewFile(uintptr(fd), "setup")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c.(*net.UnixConn)
	}
	dir, err := os.MkdirTemp("", "qb-fake-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &fakeServer{t: t, transport: transport, max: max, dir: dir, conn: toConn(fds[0]), handler: echo, reqFd: -1, evFd: -1, ready: make(chan struct{})}
	return s, toConn(fds[1])
}

// start runs the handshake and the request loop in the background.
func (s *fakeServer) start() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.handshake()
		close(s.ready)
		if err != nil {
			s.conn.Close()
			return
		}
		if s.transport == TransportSHM {
			s.serveSHM()
		} else {
			s.serveSocket()
		}
	}()
}

// stop waits for the server to finish (after the client closed) and frees everything.
func (s *fakeServer) stop() {
	s.wg.Wait()
	s.cleanup()
}

// kill makes the server vanish like a killed daemon: its setup socket closes, nothing
// is unmapped or decremented.
func (s *fakeServer) kill() {
	s.gone.Store(true)
	s.conn.Close()
	if s.reqFd >= 0 {
		unix.Shutdown(s.reqFd, unix.SHUT_RDWR)
	}
	s.wg.Wait()
}

func (s *fakeServer) cleanup() {
	for _, r := range []*ring{s.req, s.resp, s.ev} {
		if r != nil {
			r.unmap()
		}
	}
	s.req, s.resp, s.ev = nil, nil, nil
	if s.ctl != nil {
		unix.Munmap(s.ctl)
		s.ctl = nil
	}
	for _, fd := range []*int{&s.reqFd, &s.evFd} {
		if *fd >= 0 {
			unix.Close(*fd)
			*fd = -1
		}
	}
	s.conn.Close()
}

func (s *fakeServer) handshake() error {
	req := make([]byte, setupRequestSize)
	if _, err := io.ReadFull(s.conn, req); err != nil {
		return err
	}
	le := binary.LittleEndian
	if int32(le.Uint32(req)) != msgAuthenticate || le.Uint32(req[8:]) != setupRequestSize {
		s.t.Errorf("setup request % x", req)
	}
	max := max(s.max, int(le.Uint32(req[16:])))
	s.max = max
	resp := make([]byte, setupResponseSize)
	le.PutUint32(resp[0:], 0xFFFFFFFF)
	le.PutUint32(resp[8:], setupResponseSize)
	le.PutUint32(resp[16:], uint32(s.errno))
	le.PutUint32(resp[24:], uint32(s.transport))
	le.PutUint32(resp[28:], uint32(max))
	names := [3]string{}
	var err error
	if s.errno == 0 && s.transport == TransportSHM {
		d := filepath.Join(s.dir, "qb-1-2-3-abcdef")
		os.Mkdir(d, 0o770)
		for i, dir := range []string{"request", "response", "event"} {
			names[i] = filepath.Join(d, "qb-"+dir+"-fake")
			r, e := createRing(names[i], max)
			if e != nil {
				err = e
				break
			}
			*[]**ring{&s.req, &s.resp, &s.ev}[i] = r
		}
	} else if s.errno == 0 {
		err = s.setupSocket(&names)
	}
	if err != nil {
		s.t.Errorf("fake server: %v", err)
		return err
	}
	for i, n := range names {
		copy(resp[respNames+i*pathMax:], n)
	}
	cred := s.cred
	if cred == nil {
		cred = &unix.Ucred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	}
	_, _, err = s.conn.WriteMsgUnix(resp, unix.UnixCredentials(cred), nil)
	return err
}

// createRing creates a ring as libqb's server does (qb_rb_open with QB_RB_FLAG_CREATE
// and 4 bytes of user data): both files, the header fields, and the self-test write
// through the second mapping.
func createRing(base string, max int) (*ring, error) {
	page := os.Getpagesize()
	size := (max + chunkMargin + 1 + page - 1) / page * page
	hf, err := os.OpenFile(base+"-header", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	defer hf.Close()
	if err := hf.Truncate(hdrSize + 4); err != nil {
		return nil, err
	}
	hdr, err := unix.Mmap(int(hf.Fd()), 0, hdrSize+4, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	r := &ring{name: base + "-header", hdr: hdr, words: uint32(size / 4), owner: true}
	df, err := os.OpenFile(base+"-data", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		r.unmap()
		return nil, err
	}
	defer df.Close()
	if err := df.Truncate(int64(size)); err != nil {
		r.unmap()
		return nil, err
	}
	if r.data, err = mapTwice(int(df.Fd()), size); err != nil {
		r.unmap()
		return nil, err
	}
	binary.LittleEndian.PutUint32(hdr[hdrWordSize:], r.words)
	copy(hdr[hdrPath:], base+"-header")
	copy(hdr[hdrDataPath:], base+"-data")
	binary.LittleEndian.PutUint32(hdr[hdrRefCount:], 1)
	binary.LittleEndian.PutUint32(hdr[hdrSem+8:], 0x80) // pshared
	// libqb's self-test: a word written through the second mapping is word 0.
	*(*uint32)(unsafe.Pointer(&r.data[size])) = 5
	if *r.word(0) != 5 {
		r.unmap()
		return nil, errors.New("double mapping does not alias")
	}
	*r.word(0) = 0
	r.sem = newSem(unsafe.Pointer(&hdr[hdrSem]))
	return r, nil
}

func (s *fakeServer) serveSHM() {
	if s.deaf != nil {
		<-s.deaf
	}
	one := make([]byte, 1)
	for {
		if _, err := s.conn.Read(one); err != nil {
			return // client closed, or kill
		}
		if s.manual {
			continue
		}
		for s.req.sem.tryWait() {
			msg, err := s.req.read(nil)
			if err != nil {
				s.t.Errorf("fake server: read request: %v", err)
				return
			}
			s.handle(msg)
		}
	}
}

// readRequest reads one request in manual mode.
func (s *fakeServer) readRequest() []byte {
	s.t.Helper()
	if !s.req.sem.tryWait() {
		s.t.Fatal("fake server: no request queued")
	}
	msg, err := s.req.read(nil)
	if err != nil {
		s.t.Fatal(err)
	}
	return msg
}

func (s *fakeServer) handle(msg []byte) {
	s.mu.Lock()
	s.handled = append(s.handled, msg)
	s.mu.Unlock()
	if s.replies != nil {
		for _, r := range s.replies(msg) {
			s.respond(r)
		}
		return
	}
	if s.handler == nil {
		return
	}
	if reply := s.handler(msg); reply != nil {
		s.respond(reply)
	}
}

func (s *fakeServer) respond(msg []byte) {
	if s.transport == TransportSHM {
		for {
			err := s.resp.write(msg)
			if !errors.Is(err, ErrFull) {
				if err != nil {
					s.t.Errorf("fake server: respond: %v", err)
				}
				return
			}
		}
	}
	if !s.respConn {
		if err := connectAbstract(s.reqFd, s.base+"-response"); err != nil {
			s.t.Errorf("fake server: connect response: %v", err)
			return
		}
		s.respConn = true
	}
	if _, err := unix.Write(s.reqFd, msg); err != nil {
		s.t.Errorf("fake server: respond: %v", err)
		return
	}
	atomic.AddInt32((*int32)(unsafe.Pointer(&s.ctl[ctlRespSent])), 1)
}

// event sends msg on the event channel; ErrFull when the ring has no room.
func (s *fakeServer) event(msg []byte) error {
	if s.transport == TransportSHM {
		if err := s.ev.write(msg); err != nil {
			return err
		}
		_, err := s.conn.Write([]byte{0})
		return err
	}
	if !s.evConned {
		if err := connectAbstract(s.evFd, s.base+"-event"); err != nil {
			return err
		}
		s.evConned = true
	}
	if _, err := unix.Write(s.evFd, msg); err != nil {
		return err
	}
	atomic.AddInt32((*int32)(unsafe.Pointer(&s.ctl[ctlEvSent])), 1)
	return nil
}

func (s *fakeServer) setupSocket(names *[3]string) error {
	d := filepath.Join(s.dir, "qb-1-2-3-abcdef")
	os.Mkdir(d, 0o770)
	names[0] = filepath.Join(d, "qb-control-fake")
	names[1] = filepath.Join(d, "qb-fake")
	s.base = names[1]
	f, err := os.OpenFile(names[0], os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(ctlSize); err != nil {
		return err
	}
	if s.ctl, err = unix.Mmap(int(f.Fd()), 0, ctlSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED); err != nil {
		return err
	}
	for _, p := range []struct {
		fd   *int
		name string
	}{{&s.reqFd, "request"}, {&s.evFd, "event-tx"}} {
		if *p.fd, err = unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0); err != nil {
			return err
		}
		if err := bindAbstract(*p.fd, s.base+"-"+p.name); err != nil {
			return err
		}
		unix.SetsockoptInt(*p.fd, unix.SOL_SOCKET, unix.SO_RCVBUF, s.max)
		unix.SetsockoptInt(*p.fd, unix.SOL_SOCKET, unix.SO_SNDBUF, s.max)
	}
	// The setup socket only tells about liveness: watch it for the client's close.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		io.Copy(io.Discard, s.conn)
		unix.Shutdown(s.reqFd, unix.SHUT_RDWR)
	}()
	return nil
}

func (s *fakeServer) serveSocket() {
	buf := make([]byte, s.max+1)
	if s.manual {
		return // requests stay queued for readRequestSocket
	}
	for {
		n, _, err := unix.Recvfrom(s.reqFd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return // shut down
		}
		atomic.AddInt32((*int32)(unsafe.Pointer(&s.ctl[ctlReqSent])), -1)
		s.handle(append([]byte(nil), buf[:n]...))
	}
}

// readRequestSocket reads one queued request in manual socket mode.
func (s *fakeServer) readRequestSocket() []byte {
	s.t.Helper()
	buf := make([]byte, s.max+1)
	n, _, err := unix.Recvfrom(s.reqFd, buf, unix.MSG_DONTWAIT)
	if err != nil {
		s.t.Fatal(err)
	}
	return buf[:n]
}

// dialFake connects a client to a new fake server.
func dialFake(t *testing.T, transport Transport, opts Options, setup func(*fakeServer)) (*Client, *fakeServer) {
	t.Helper()
	s, conn := newFake(t, transport, 12328)
	if setup != nil {
		setup(s)
	}
	s.start()
	c, err := NewClient(context.Background(), conn, "fake", opts)
	if err != nil {
		s.conn.Close()
		s.stop()
		t.Fatal(err)
	}
	<-s.ready
	t.Cleanup(func() {
		c.Close()
		s.stop()
	})
	return c, s
}

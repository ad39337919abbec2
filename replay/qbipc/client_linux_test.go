package qbipc

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

var transports = []Transport{TransportSHM, TransportSocket}

// request builds a libqb message: id, a size field Send fills in, and payload.
func request(id int32, payload string) []byte {
	msg := make([]byte, RequestHeaderSize+len(payload))
	binary.LittleEndian.PutUint32(msg, uint32(id))
	copy(msg[RequestHeaderSize:], payload)
	return msg
}

func TestSetupRequestBytes(t *testing.T) {
	// docs/protocol.md 3.4, observed from a Pacemaker tool.
	want := []byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0}
	if got := encodeSetupRequest(131072); !bytes.Equal(got, want) {
		t.Errorf("setup request % x, want % x", got, want)
	}
}

func TestAbstractAddr(t *testing.T) {
	sa := abstractAddr("cib_ro")
	if unsafe.Sizeof(*sa) != 110 {
		t.Fatalf("sockaddr_un of %d bytes, want 110", unsafe.Sizeof(*sa))
	}
	if sa.Path[0] != 0 || sa.Path[1] != 'c' || sa.Path[6] != 'o' || sa.Path[7] != 0 || sa.Path[107] != 0 {
		t.Errorf("path %v: want NUL, the name, then NUL padding", sa.Path[:10])
	}
	long := abstractAddr(strings.Repeat("x", 200))
	if long.Path[106] != 'x' || long.Path[107] != 0 {
		t.Error("long names must be cut to 106 bytes, as snprintf into sun_path+1 does")
	}
}

func TestSendRecv(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{}, nil)
			if c.Transport() != tr || c.MaxMsgSize() != DefaultMaxMsgSize {
				t.Fatalf("transport %v, max %d", c.Transport(), c.MaxMsgSize())
			}
			if pid, uid, _ := c.Server(); pid != os.Getpid() || uid != os.Getuid() {
				t.Errorf("server pid %d uid %d, want %d %d", pid, uid, os.Getpid(), os.Getuid())
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			// Every alignment, then the largest message the connection allows.
			sizes := []int{0, 1, 2, 3, 4, 5, 100, 4093, 65536, DefaultMaxMsgSize - RequestHeaderSize}
			for i, n := range sizes {
				msg := request(int32(i+1), strings.Repeat(string(rune('a'+i)), n))
				if err := c.Send(ctx, msg); err != nil {
					t.Fatalf("send %d bytes: %v", len(msg), err)
				}
				got, err := c.Recv(ctx)
				if err != nil {
					t.Fatalf("recv: %v", err)
				}
				if binary.LittleEndian.Uint32(got[8:]) != uint32(len(msg)) {
					t.Errorf("size field %d, want %d", binary.LittleEndian.Uint32(got[8:]), len(msg))
				}
				if !bytes.Equal(got[RequestHeaderSize:], msg[RequestHeaderSize:]) || int32(binary.LittleEndian.Uint32(got)) != int32(i+1) {
					t.Errorf("echo of %d bytes differs", len(msg))
				}
			}
			if err := c.Send(ctx, request(1, strings.Repeat("x", DefaultMaxMsgSize))); !errors.Is(err, ErrMsgSize) {
				t.Errorf("oversized send: %v, want ErrMsgSize", err)
			}
			if s.transport == TransportSHM && s.req.refCount() != 2 {
				t.Errorf("request ring ref_count %d, want 2", s.req.refCount())
			}
			if s.transport == TransportSocket {
				// Like libqb, senders count after sending, so a counter may dip below
				// zero for a moment.
				ctl := func(off int) int32 { return atomic.LoadInt32((*int32)(unsafe.Pointer(&s.ctl[off]))) }
				for deadline := time.Now().Add(time.Second); ctl(ctlReqSent) != 0 || ctl(ctlRespSent) != 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						t.Fatalf("control counters request %d response %d, want 0 0", ctl(ctlReqSent), ctl(ctlRespSent))
					}
				}
			}
		})
	}
}

func TestEvents(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			mustEvent(t, s, request(7, "first"))
			mustEvent(t, s, request(8, "second"))
			// The poll fd is readable while an event waits.
			pfd := []unix.PollFd{{Fd: int32(c.Fd()), Events: unix.POLLIN}}
			if n, err := unix.Poll(pfd, 1000); n != 1 || err != nil {
				t.Fatalf("poll on Fd: %d, %v", n, err)
			}
			for _, want := range []string{"first", "second"} {
				got, err := c.RecvEvent(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if string(got[RequestHeaderSize:]) != want {
					t.Errorf("event %q, want %q", got[RequestHeaderSize:], want)
				}
			}
			if n, _ := unix.Poll(pfd, 0); n != 0 {
				t.Error("poll fd still readable with no event left")
			}
			// The channel API.
			ch := c.Events()
			for i := range 50 {
				mustEvent(t, s, request(int32(i), strings.Repeat("e", i*100)))
			}
			for i := range 50 {
				select {
				case got := <-ch:
					if len(got) != RequestHeaderSize+i*100 {
						t.Fatalf("event %d: %d bytes", i, len(got))
					}
				case <-ctx.Done():
					t.Fatal("events channel stalled")
				}
			}
			if _, err := c.RecvEvent(ctx); err == nil {
				t.Error("RecvEvent worked while Events runs")
			}
			c.Close()
			if _, ok := <-ch; ok {
				t.Error("events channel open after Close")
			}
			if !errors.Is(c.Err(), ErrClosed) {
				t.Errorf("Err after Close: %v", c.Err())
			}
		})
	}
}

func TestFlowControl(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{}, nil)
			ctx := context.Background()
			var fc *int32
			if tr == TransportSHM {
				fc = (*int32)(unsafe.Pointer(&s.req.hdr[hdrUserData]))
			} else {
				fc = (*int32)(unsafe.Pointer(&s.ctl[ctlReqFC]))
			}
			atomic.StoreInt32(fc, 1)
			err := c.Send(ctx, request(1, "x"))
			if !errors.Is(err, ErrFlowControl) || !Retryable(err) {
				t.Fatalf("send with flow control on: %v, want retryable ErrFlowControl", err)
			}
			// libqb's client only honours values up to fc_enable_max (1).
			atomic.StoreInt32(fc, 2)
			if err := c.Send(ctx, request(2, "x")); err != nil {
				t.Fatalf("send with flow control 2: %v", err)
			}
			atomic.StoreInt32(fc, 0)
			if err := c.Send(ctx, request(3, "x")); err != nil {
				t.Fatalf("send with flow control off: %v", err)
			}
			for range 2 {
				if _, err := c.Recv(ctx); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestFull(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{}, func(s *fakeServer) { s.manual = true })
			ctx := context.Background()
			msg := request(1, strings.Repeat("x", 10000))
			sent := 0
			var err error
			for ; sent < 1000; sent++ {
				if err = c.Send(ctx, msg); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrFull) || !Retryable(err) {
				t.Fatalf("after %d sends: %v, want ErrFull", sent, err)
			}
			if tr == TransportSHM && sent != (135168/(10016+8+4))-0 && sent != 13 {
				t.Logf("%d messages of %d bytes fit in the ring", sent, len(msg))
			}
			// Once the server reads one, there is room again.
			if tr == TransportSHM {
				s.readRequest()
			} else {
				s.readRequestSocket()
			}
			if err := c.Send(ctx, msg); err != nil {
				t.Fatalf("send after the server read one: %v", err)
			}
		})
	}
}

// A wake-up byte that finds the setup socket full waits for room under the context: it
// fails when the context ends, and goes once the server reads again.
func TestWakeUpSocketFull(t *testing.T) {
	hear := make(chan struct{})
	c, _ := dialFake(t, TransportSHM, Options{}, func(s *fakeServer) { s.manual, s.deaf = true, hear })
	// The kernel raises this to its smallest buffer, which holds a few one-byte messages.
	if err := unix.SetsockoptInt(c.setupFd, unix.SOL_SOCKET, unix.SO_SNDBUF, 1); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	var err error
	sent := 0
	for ; sent < 200 && err == nil; sent++ {
		err = c.Send(ctx, request(int32(sent+1), "x"))
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("after %d sends to a server that does not read: %v, want the context's deadline", sent, err)
	}
	close(hear)
	if err := c.Send(context.Background(), request(1000, "x")); err != nil {
		t.Fatalf("send once the server reads: %v", err)
	}
}

func TestDisconnect(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{}, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			recvErr := make(chan error, 2)
			go func() { _, err := c.Recv(ctx); recvErr <- err }()
			go func() { _, err := c.RecvEvent(ctx); recvErr <- err }()
			time.Sleep(50 * time.Millisecond)
			start := time.Now()
			s.kill()
			for range 2 {
				if err := <-recvErr; !errors.Is(err, ErrDisconnected) {
					t.Errorf("receive after the server died: %v, want ErrDisconnected", err)
				}
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("noticed after %v", d)
			}
			var err error
			for range 3 { // a socket may take one send to notice
				if err = c.Send(ctx, request(1, "x")); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrDisconnected) {
				t.Errorf("send after the server died: %v, want ErrDisconnected", err)
			}
		})
	}
}

func TestContext(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, _ := dialFake(t, tr, Options{}, func(s *fakeServer) { s.handler = nil })
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			if _, err := c.Recv(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("recv past the deadline: %v", err)
			}
			if _, err := c.RecvEvent(ctx); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("event past the deadline: %v", err)
			}
			// Cancellation wakes the waiter at once rather than at the end of its
			// bounded wait; the fastest of five tries tolerates a loaded machine.
			fastest := time.Hour
			for range 5 {
				ctx, cancel := context.WithCancel(context.Background())
				time.AfterFunc(20*time.Millisecond, cancel)
				start := time.Now()
				if _, err := c.Recv(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("recv cancelled: %v", err)
				}
				fastest = min(fastest, time.Since(start)-20*time.Millisecond)
			}
			if fastest > waitSlice/2 {
				t.Errorf("cancellation noticed after %v at best", fastest)
			}
			// A send under an ended context sends nothing.
			ended, end := context.WithCancel(context.Background())
			end()
			if err := c.Send(ended, request(1, "x")); !errors.Is(err, context.Canceled) {
				t.Errorf("send cancelled: %v", err)
			}
			// The client is still usable.
			if err := c.Send(context.Background(), request(1, "x")); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestCloseUnblocks(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, _ := dialFake(t, tr, Options{}, func(s *fakeServer) { s.handler = nil })
			errs := make(chan error, 2)
			go func() { _, err := c.Recv(context.Background()); errs <- err }()
			go func() { _, err := c.RecvEvent(context.Background()); errs <- err }()
			time.Sleep(30 * time.Millisecond)
			start := time.Now()
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if err := <-errs; !errors.Is(err, ErrClosed) {
					t.Errorf("blocked call after Close: %v, want ErrClosed", err)
				}
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Errorf("Close took %v", d)
			}
			if err := c.Send(context.Background(), request(1, "x")); !errors.Is(err, ErrClosed) {
				t.Errorf("send after Close: %v", err)
			}
		})
	}
}

func TestSetupRefused(t *testing.T) {
	s, conn := newFake(t, TransportSHM, 12328)
	s.errno = -int32(syscall.EACCES)
	s.start()
	defer s.stop()
	_, err := NewClient(context.Background(), conn, "fake", Options{})
	if !errors.Is(err, syscall.EACCES) {
		t.Errorf("NewClient: %v, want EACCES", err)
	}
}

// TestPeerCheck refuses a server whose credentials are neither root nor allowed.
func TestPeerCheck(t *testing.T) {
	cred := &unix.Ucred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
	if os.Geteuid() == 0 {
		cred.Uid, cred.Gid = 12345, 12345 // root may send any credentials
	}
	for _, c := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"not allowed", Options{ServerUIDs: []uint32{4242}, ServerGIDs: []uint32{4242}}, false},
		{"uid allowed", Options{ServerUIDs: []uint32{cred.Uid}}, true},
		{"gid allowed", Options{ServerGIDs: []uint32{cred.Gid}}, true},
		{"skip", Options{SkipPeerCheck: true}, true},
		{"no cluster user in root", Options{Root: t.TempDir()}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, conn := newFake(t, TransportSHM, 12328)
			s.cred = cred
			s.start()
			cl, err := NewClient(context.Background(), conn, "fake", c.opts)
			if c.ok && err != nil || !c.ok && !errors.Is(err, ErrUnauthorized) {
				t.Errorf("NewClient: %v, want ok=%v", err, c.ok)
			}
			if cl != nil {
				cl.Close()
			}
			s.stop()
		})
	}
}

func TestClusterIDs(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nhacluster:x:994:995:cluster user:/var/lib/pacemaker:/usr/sbin/nologin\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nhaclient:x:996:\n"), 0o644)
	uids, gids := clusterIDs(root)
	if len(uids) != 1 || uids[0] != 994 || len(gids) != 2 || gids[0] != 995 || gids[1] != 996 {
		t.Errorf("clusterIDs = %v %v, want [994] [995 996]", uids, gids)
	}
}

// TestNoLeaks connects and closes 100 times and counts descriptors, mappings and
// goroutines before and after.
func TestNoLeaks(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			cycle := func() {
				s, conn := newFake(t, tr, 12328)
				s.start()
				c, err := NewClient(context.Background(), conn, "fake", Options{})
				if err != nil {
					t.Fatal(err)
				}
				c.Events()
				if err := c.Send(context.Background(), request(1, "ping")); err != nil {
					t.Fatal(err)
				}
				if _, err := c.Recv(context.Background()); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(); err != nil {
					t.Fatal(err)
				}
				s.stop()
			}
			cycle() // warm up the runtime's own descriptors and threads
			fds, maps, gs := countFDs(t), countMaps(t), runtime.NumGoroutine()
			for range 100 {
				cycle()
			}
			time.Sleep(10 * time.Millisecond)
			if n := countFDs(t); n > fds {
				t.Errorf("%d descriptors after 100 cycles, %d before", n, fds)
			}
			// A leaked ring is 3 mappings a cycle; the runtime may add a few of its own.
			if n := countMaps(t); n > maps+20 {
				t.Errorf("%d mappings after 100 cycles, %d before", n, maps)
			}
			if b, _ := os.ReadFile("/proc/self/maps"); bytes.Contains(b, []byte("qb-fake")) {
				t.Errorf("ring files still mapped:\n%s", b)
			}
			if n := runtime.NumGoroutine(); n > gs {
				t.Errorf("%d goroutines after 100 cycles, %d before", n, gs)
			}
		})
	}
}

func mustEvent(t *testing.T, s *fakeServer, msg []byte) {
	t.Helper()
	if err := s.event(msg); err != nil {
		t.Fatal(err)
	}
}

func countFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

func countMaps(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// BenchmarkFakeRoundTrip measures the transport alone: a 200-byte message echoed by the
// in-process fake server.
func BenchmarkFakeRoundTrip(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.String(), func(b *testing.B) {
			s, conn := newFake(b, tr, 12328)
			s.start()
			c, err := NewClient(context.Background(), conn, "fake", Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer func() { c.Close(); s.stop() }()
			msg := request(1, strings.Repeat("x", 184))
			ctx := context.Background()
			for b.Loop() {
				if err := c.Send(ctx, msg); err != nil {
					b.Fatal(err)
				}
				if _, err := c.Recv(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFakeRequest measures Request's own work on top of the transport: a 200-byte
// dialect-A request echoed by the in-process fake server as its reply; "into" reuses one
// Message with RequestInto.
func BenchmarkFakeRequest(b *testing.B) {
	for _, tr := range transports {
		for _, into := range []bool{false, true} {
			name := tr.String()
			if into {
				name += "/into"
			}
			b.Run(name, func(b *testing.B) {
				s, conn := newFake(b, tr, 12328)
				s.start()
				c, err := NewClient(context.Background(), conn, "fake", Options{Dialect: DialectA})
				if err != nil {
					b.Fatal(err)
				}
				defer func() { c.Close(); s.stop() }()
				xml := `<cib_command t="cib" cib_op="cib_query" cib_callopt="4352"` + strings.Repeat(" ", 100) + `/>`
				ctx := context.Background()
				var m Message
				for b.Loop() {
					if into {
						err = c.RequestInto(ctx, xml, FlagClientResponse, &m)
					} else {
						_, err = c.Request(ctx, xml, FlagClientResponse)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

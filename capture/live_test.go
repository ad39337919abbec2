//go:build linux && amd64

package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/pcmk-trace/pcmk-trace/capfile"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// requireRoot skips a test that needs BPF privileges, or fails it when CI=true.
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root; -short runs only the tests that do not")
	}
	if os.Geteuid() != 0 {
		testcluster.Skip(t, "needs root (BPF programs, uprobes)")
	}
}

// buildQBPair compiles testdata/qbpair.c against the installed libqb.
func buildQBPair(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		testcluster.Skip(t, "no C compiler to build the libqb test program")
	}
	if _, err := os.Stat("/usr/include/qb/qbipcs.h"); err != nil {
		testcluster.Skip(t, "libqb headers not installed (libqb-dev)")
	}
	bin := filepath.Join(t.TempDir(), "qbpair")
	out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, "testdata/qbpair.c", "-lqb").CombinedOutput()
	if err != nil {
		t.Fatalf("build qbpair: %v\n%s", err, out)
	}
	return bin
}

func openTracer(t *testing.T, cfg Config) *Tracer {
	t.Helper()
	tr, err := Open(cfg)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("%+v", ve)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// runPair starts a qbpair server for service, runs a client sending sizes,
// and returns the pids of both once they exited. connected, when not nil,
// runs once the client is connected, before it sends anything.
func runPair(t *testing.T, bin, service, transport string, max int, sizes []int) (server, client int) {
	t.Helper()
	return runPairWait(t, bin, service, transport, max, sizes, nil)
}

func runPairWait(t *testing.T, bin, service, transport string, max int, sizes []int, connected func()) (server, client int) {
	t.Helper()
	return runPairBins(t, bin, bin, service, transport, max, sizes, connected)
}

// runPairBins is runPairWait with the server run from srvBin, a copy of
// qbpair under another name (another command name for the kernel).
func runPairBins(t *testing.T, srvBin, bin, service, transport string, max int, sizes []int, connected func()) (server, client int) {
	t.Helper()
	srv := exec.Command(srvBin, "server", service, transport, strconv.Itoa(max))
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server: %q %v %s", line, err, srvErr.String())
	}
	args := []string{"client", service, strconv.Itoa(max)}
	for _, s := range sizes {
		args = append(args, strconv.Itoa(s))
	}
	cli := exec.Command(bin, args...)
	if connected == nil {
		if out, err := cli.CombinedOutput(); err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
	} else {
		cli.Env = append(os.Environ(), "QBPAIR_WAIT=1")
		in, err := cli.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cli.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "connected\n" {
			cli.Process.Kill()
			t.Fatalf("client: %q %v", line, err)
		}
		connected()
		in.Write([]byte("go\n"))
		if err := cli.Wait(); err != nil {
			t.Fatalf("client: %v", err)
		}
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server: %v\n%s", err, srvErr.String())
	}
	return srv.Process.Pid, cli.Process.Pid
}

// collect reads records until ctx... the tracer is drained after wait.
func collect(t *testing.T, tr *Tracer, wait time.Duration) []*capfile.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var recs []*capfile.Record
	for {
		r, err := tr.Read(ctx)
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
}

// expected builds message i of channel ch as qbpair does.
func expected(ch byte, i uint32, n int) []byte {
	n = max(n, 24)
	m := make([]byte, n)
	binary.LittleEndian.PutUint32(m[0:], i)
	binary.LittleEndian.PutUint32(m[8:], uint32(n))
	hdr := 24
	if ch == 'q' {
		hdr = 16
	}
	for j := hdr; j < n; j++ {
		m[j] = byte(j*131 + int(i)*7 + int(ch)*29 + (j >> 8))
	}
	return m
}

type msgKey struct {
	ch capfile.Channel
	rx bool
	id uint32
}

func TestCaptureQBPair(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	for _, tc := range []struct {
		transport string
		max       int
		sizes     []int
		rx        bool
	}{
		{"shm", 4 << 20, []int{24, 100, 4095, 4096, 4097, 32767, 32768, 32769, 65539, 1<<20 + 5, 3<<20 + 1}, false},
		{"socket", 1 << 20, []int{24, 100, 4096, 32768, 32769, 200003}, false},
		{"shm", 4 << 20, []int{24, 5000, 70000, 1<<20 + 5}, true},
		{"socket", 1 << 20, []int{24, 5000, 70000}, true},
	} {
		name := tc.transport
		if tc.rx {
			name += "-rx"
		}
		t.Run(name, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-%s", os.Getpid(), name)
			tr := openTracer(t, Config{Services: []string{service}, RX: tc.rx})
			srvPID, cliPID := runPair(t, bin, service, tc.transport, tc.max, tc.sizes)
			recs := collect(t, tr, 500*time.Millisecond)

			transport := capfile.TransportSHM
			if tc.transport == "socket" {
				transport = capfile.TransportSocket
			}
			msgs := map[msgKey]*capfile.Record{}
			var connects, disconnects int
			for _, r := range recs {
				switch r.Kind {
				case capfile.KindLoss:
					t.Errorf("loss: %d messages, cause %d", r.Lost, r.Cause)
					continue
				case capfile.KindConnect:
					connects++
					if r.PID != uint32(cliPID) || r.MaxMsgSize < uint32(tc.max) || r.Transport != transport {
						t.Errorf("connect: pid %d max %d transport %d", r.PID, r.MaxMsgSize, r.Transport)
					}
					continue
				case capfile.KindDisconnect:
					disconnects++
					if r.PID != uint32(srvPID) || r.Transport != transport {
						t.Errorf("disconnect: pid %d transport %d", r.PID, r.Transport)
					}
					continue
				}
				if r.Service != service || r.Transport != transport {
					t.Errorf("record of service %q transport %d", r.Service, r.Transport)
					continue
				}
				if r.ServerPID != uint32(srvPID) || r.ClientPID != uint32(cliPID) {
					t.Errorf("connection %s: pids %d/%d, want %d/%d", r.Conn, r.ServerPID, r.ClientPID, srvPID, cliPID)
				}
				if len(r.Data) < 16 {
					t.Errorf("message of %d bytes", len(r.Data))
					continue
				}
				k := msgKey{r.Channel, r.Flags&capfile.FlagRX != 0, binary.LittleEndian.Uint32(r.Data)}
				if msgs[k] != nil {
					t.Errorf("duplicate %+v", k)
				}
				msgs[k] = r
			}
			if connects != 1 || disconnects != 1 {
				t.Errorf("%d connect and %d disconnect records, want 1 and 1", connects, disconnects)
			}

			sides := []bool{false}
			if tc.rx {
				sides = append(sides, true)
			}
			for i, size := range tc.sizes {
				id := uint32(i + 1)
				for _, ch := range []struct {
					c      capfile.Channel
					b      byte
					sender int
				}{
					{capfile.ChannelRequest, 'q', cliPID},
					{capfile.ChannelResponse, 'r', srvPID},
					{capfile.ChannelEvent, 'e', srvPID},
				} {
					for _, rx := range sides {
						k := msgKey{ch.c, rx, id}
						r := msgs[k]
						if r == nil {
							t.Errorf("missing %+v (%d bytes)", k, size)
							continue
						}
						delete(msgs, k)
						want := expected(ch.b, id, size)
						if !bytes.Equal(r.Data, want) || r.OrigLen != uint32(len(want)) || r.Flags&capfile.FlagTruncated != 0 {
							t.Errorf("%+v: %d bytes (orig %d), want %d, equal %v", k, len(r.Data), r.OrigLen, len(want), bytes.Equal(r.Data, want))
						}
						pid := uint32(ch.sender)
						if rx {
							pid = uint32(srvPID + cliPID - ch.sender)
						}
						if r.PID != pid || r.NSPID != pid || r.Comm != "qbpair" {
							t.Errorf("%+v: written by %d (%d) %q, want %d", k, r.PID, r.NSPID, r.Comm, pid)
						}
						if r.Time.IsZero() || time.Since(r.Time) > time.Minute || time.Since(r.Time) < 0 {
							t.Errorf("%+v: time %v", k, r.Time)
						}
					}
				}
			}
			for k := range msgs {
				t.Errorf("unexpected message %+v", k)
			}
			s := tr.Stats()
			if s.LostTotal() != 0 {
				t.Errorf("lost %v", s.Lost)
			}
			t.Logf("%d records; stats %+v", len(recs), s)
		})
	}
}

// Connections made before the recorder started are recorded too; for the
// socket transport that takes finding the processes that own libqb sockets.
func TestCaptureExistingConnection(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	for _, transport := range []string{"shm", "socket"} {
		t.Run(transport, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-old-%s", os.Getpid(), transport)
			var tr *Tracer
			runPairWait(t, bin, service, transport, 1<<20, []int{100, 50000}, func() {
				tr = openTracer(t, Config{Services: []string{service}})
			})
			n := 0
			for _, r := range collect(t, tr, 300*time.Millisecond) {
				if r.Kind == capfile.KindMessage {
					n++
				}
			}
			if n != 6 {
				t.Errorf("%d messages, want 6", n)
			}
		})
	}
}

// Filters in the kernel leave other traffic out.
func TestCaptureFilters(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-filter", os.Getpid())
	for _, cfg := range []Config{
		{Services: []string{service + "x"}},
		{Comms: []string{"nobody-here"}},
		{PIDs: []uint32{1 << 30}},
	} {
		tr := openTracer(t, cfg)
		runPair(t, bin, service, "shm", 1<<20, []int{100})
		for _, r := range collect(t, tr, 300*time.Millisecond) {
			if r.Service == service {
				t.Errorf("config %+v: recorded %+v", cfg, r)
			}
		}
		tr.Close()
	}
	// Snaplen truncates and keeps the original length.
	tr := openTracer(t, Config{Services: []string{service}, Snaplen: 64})
	runPair(t, bin, service, "shm", 1<<20, []int{1000})
	n := 0
	for _, r := range collect(t, tr, 300*time.Millisecond) {
		if r.Kind != capfile.KindMessage {
			continue
		}
		n++
		if len(r.Data) != 64 || r.OrigLen != 1000 || r.Flags&capfile.FlagTruncated == 0 {
			t.Errorf("snaplen 64: %d bytes of %d, flags %#x", len(r.Data), r.OrigLen, r.Flags)
		}
	}
	if n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// Comms keeps both ends of a conversation: what a named process writes and
// what is written to it, whether it started after the tracer (exec), before
// it (the scan at Open), and with or without the socket transport's hooks.
func TestCaptureCommBothEnds(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	srvBin := filepath.Join(t.TempDir(), "qbsrv")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(srvBin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		comm      string
		before    bool // the tracer opens once both ends run
		noSocket  bool
		transport string
	}{
		{"qbsrv", false, false, "shm"},
		{"qbsrv", false, true, "shm"},
		{"qbsrv", true, true, "shm"},
		{"qbpair", false, true, "shm"},
		{"qbpair", true, false, "shm"},
		{"qbsrv", false, false, "socket"},
		{"qbpair", true, false, "socket"},
	} {
		name := fmt.Sprintf("%s-%s-running=%v-nosocket=%v", tc.transport, tc.comm, tc.before, tc.noSocket)
		t.Run(name, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-comm", os.Getpid())
			cfg := Config{Comms: []string{tc.comm}, NoSocket: tc.noSocket}
			var tr *Tracer
			open := func() { tr = openTracer(t, cfg) }
			if !tc.before {
				open()
				open = func() {}
			}
			runPairBins(t, srvBin, bin, service, tc.transport, 1<<20, []int{100, 5000}, open)
			got := map[capfile.Channel]int{}
			for _, r := range collect(t, tr, 300*time.Millisecond) {
				if r.Kind == capfile.KindMessage && r.Service == service {
					got[r.Channel]++
				}
			}
			for _, ch := range []capfile.Channel{capfile.ChannelRequest, capfile.ChannelResponse, capfile.ChannelEvent} {
				if got[ch] != 2 {
					t.Errorf("%d %v messages, want 2", got[ch], ch)
				}
			}
		})
	}
}

// A reader that cannot keep up loses messages, and says how many: the
// messages read plus those counted lost are the messages sent.
func TestCaptureLossCounted(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-loss", os.Getpid())
	tr := openTracer(t, Config{Services: []string{service}, RingSize: MinRingSize})
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 50000
	}
	// Nobody reads while the pair runs: the 256 KiB ring fills up.
	runPair(t, bin, service, "shm", 1<<20, sizes)
	var got, lost uint64
	for _, r := range collect(t, tr, 300*time.Millisecond) {
		switch r.Kind {
		case capfile.KindMessage:
			got++
			if len(r.Data) != 50000 {
				t.Errorf("message of %d bytes", len(r.Data))
			}
		case capfile.KindLoss:
			if r.Cause != capfile.LossRingFull {
				t.Errorf("loss cause %v", r.Cause)
			}
			lost += uint64(r.Lost)
		}
	}
	if lost == 0 || got+lost != 3*uint64(len(sizes)) {
		t.Errorf("%d messages read, %d lost; %d sent", got, lost, 3*len(sizes))
	}
	if s := tr.Stats(); s.Lost[capfile.LossRingFull] != lost {
		t.Errorf("stats say %v lost, records %d", s.Lost, lost)
	}
	t.Logf("%d read, %d lost", got, lost)
}

// TestCaptureTestCluster records `cibadmin -Q` against the sandboxed
// Pacemaker cluster of scripts/testcluster, when it runs (it is not started
// here), and checks the CIB in the captured reply against what cibadmin
// printed. PCMK_TRACE_TESTCLUSTER=1 makes a stopped cluster a failure.
//
// --comm keeps both ends of a conversation: naming the client keeps the
// server's replies (the client is known from its exec), naming the server
// keeps the client's requests (the running server is found at start).
func TestCaptureTestCluster(t *testing.T) {
	for _, comm := range []string{"cibadmin", "pacemaker-based"} {
		t.Run(comm, func(t *testing.T) { testCaptureTestCluster(t, comm) })
	}
}

func testCaptureTestCluster(t *testing.T, comm string) {
	requireRoot(t)
	script, err := filepath.Abs("../scripts/testcluster")
	if err != nil {
		t.Fatal(err)
	}
	if err := exec.Command(script, "status").Run(); err != nil {
		if os.Getenv("PCMK_TRACE_TESTCLUSTER") == "1" {
			t.Fatalf("testcluster is not running: %v", err)
		}
		t.Skip("scripts/testcluster is not running")
	}
	tr := openTracer(t, Config{Services: []string{"cib_rw"}, Comms: []string{comm}})
	printed, err := exec.Command(script, "exec", "cibadmin", "-Q").Output()
	if err != nil {
		t.Fatalf("cibadmin -Q: %v", err)
	}
	recs := collect(t, tr, 300*time.Millisecond)

	// The connection cibadmin opened, then its messages in order.
	var conn string
	for _, r := range recs {
		if r.Kind == capfile.KindConnect && r.Comm == "cibadmin" {
			conn = r.Conn
		}
	}
	if conn == "" {
		t.Fatalf("no connect record from cibadmin among %d records", len(recs))
	}
	var msgs []*capfile.Record
	disconnected := false
	for _, r := range recs {
		switch {
		case r.Conn != conn:
		case r.Kind == capfile.KindMessage:
			msgs = append(msgs, r)
		case r.Kind == capfile.KindDisconnect:
			disconnected = true
		case r.Kind == capfile.KindLoss:
			t.Errorf("loss: %d, cause %v", r.Lost, r.Cause)
		}
	}
	// register request and response, query request, reply as an event
	want := []capfile.Channel{capfile.ChannelRequest, capfile.ChannelResponse, capfile.ChannelRequest, capfile.ChannelEvent}
	if len(msgs) != len(want) || !disconnected {
		t.Fatalf("%d messages on %s (disconnect seen: %v), want %d", len(msgs), conn, disconnected, len(want))
	}
	for i, m := range msgs {
		if m.Channel != want[i] {
			t.Errorf("message %d: channel %v, want %v", i, m.Channel, want[i])
		}
		if len(m.Data) < 40 || int(binary.LittleEndian.Uint32(m.Data[8:])) != len(m.Data) || m.OrigLen != uint32(len(m.Data)) {
			t.Errorf("message %d: %d bytes, libqb header says %d", i, len(m.Data), binary.LittleEndian.Uint32(m.Data[8:]))
		}
	}
	reply := msgs[3].Data[40:]
	if binary.LittleEndian.Uint32(msgs[3].Data[32:])&1 != 0 {
		t.Skip("reply is compressed; the CIB is compared uncompressed only")
	}
	reply = bytes.TrimRight(reply, "\x00")
	start := bytes.Index(reply, []byte("<cib "))
	end := bytes.LastIndex(reply, []byte("</cib>"))
	if start < 0 || end < 0 {
		t.Fatalf("no <cib> in the reply: %.200s", reply)
	}
	got, err := canonicalXML(reply[start : end+len("</cib>")])
	if err != nil {
		t.Fatal(err)
	}
	wantXML, err := canonicalXML(printed)
	if err != nil {
		t.Fatal(err)
	}
	if got != wantXML {
		t.Errorf("captured CIB differs from cibadmin's:\n%s\n%s", got, wantXML)
	}
	t.Logf("connection %s: 4 messages, the CIB in the reply (%d bytes) matches cibadmin's %d lines",
		conn, len(msgs[3].Data), strings.Count(wantXML, "\n"))
}

// canonicalXML returns elements and attributes one per line, without the
// indentation cibadmin adds when it prints.
func canonicalXML(b []byte) (string, error) {
	var out strings.Builder
	d := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return out.String(), nil
		}
		if err != nil {
			return "", err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			out.WriteString("<" + tok.Name.Local)
			for _, a := range tok.Attr {
				fmt.Fprintf(&out, " %s=%q", a.Name.Local, a.Value)
			}
			out.WriteString(">\n")
		case xml.EndElement:
			out.WriteString("</" + tok.Name.Local + ">\n")
		case xml.CharData:
			if s := strings.TrimSpace(string(tok)); s != "" {
				out.WriteString(s + "\n")
			}
		}
	}
}

// The benchmark floor: EmptyPrograms attaches exactly the hooks a normal
// Open attaches, and its programs do nothing (no record, no counter).
func TestCaptureEmptyPrograms(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-empty", os.Getpid())
	for _, noSocket := range []bool{false, true} {
		full := openTracer(t, Config{NoSocket: noSocket})
		links := len(full.links)
		full.Close()

		tr := openTracer(t, Config{NoSocket: noSocket, EmptyPrograms: true})
		if len(tr.links) != links || links == 0 {
			t.Errorf("NoSocket %v: %d hooks with empty programs, %d with the recorder's", noSocket, len(tr.links), links)
		}
		runPair(t, bin, service, "shm", 1<<20, []int{100, 2000})
		if recs := collect(t, tr, 300*time.Millisecond); len(recs) != 0 {
			t.Errorf("NoSocket %v: empty programs recorded %d records", noSocket, len(recs))
		}
		if st := tr.Stats(); st.CommitHits != 0 || st.Messages != 0 {
			t.Errorf("NoSocket %v: empty programs counted %+v", noSocket, st)
		}
		tr.Close()
	}
}

// A recorder that hands every record back with Recycle gets the same
// messages, each whole and exact, while their memory is reused.
func TestCaptureRecycle(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-recycle", os.Getpid())
	sizes := []int{3000, 100, 2000, 24, 70000, 100, 5000, 300}
	tr := openTracer(t, Config{Services: []string{service}})
	runPair(t, bin, service, "shm", 1<<20, sizes)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	seen := map[byte]int{}
	var reused int
	addrs := map[*capfile.Record]bool{}
	for {
		r, err := tr.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != capfile.KindMessage {
			continue
		}
		if addrs[r] {
			reused++
		}
		addrs[r] = true
		ch := byte('q')
		switch r.Channel {
		case capfile.ChannelResponse:
			ch = 'r'
		case capfile.ChannelEvent:
			ch = 'e'
		}
		id := binary.LittleEndian.Uint32(r.Data)
		if want := expected(ch, id, int(r.OrigLen)); !bytes.Equal(r.Data, want) {
			t.Errorf("%c message %d (%d bytes) differs from what was sent", ch, id, len(r.Data))
		}
		seen[ch]++
		tr.Recycle(r)
	}
	if seen['q'] != len(sizes) || seen['r'] != len(sizes) || seen['e'] != len(sizes) {
		t.Errorf("messages per channel %v, want %d each", seen, len(sizes))
	}
	if reused == 0 {
		t.Error("no record was reused")
	}
}

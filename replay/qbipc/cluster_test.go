//go:build linux

package qbipc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// sandbox is a running test cluster and how to talk to it.
type sandbox struct {
	*testcluster.Cluster
	version string // Pacemaker version, e.g. 2.1.5
	dialect qbipc.Dialect
	legacy  bool // 2.1.x XML: controller-style roots are C function names, t="crmd" everywhere
}

func newSandbox(t testing.TB, release, ipc string) *sandbox {
	t.Helper()
	c := testcluster.RequireConfig(t, testcluster.Config{Release: release, IPC: ipc})
	out := string(c.MustExec(t, "pacemakerd", "--version"))
	version := strings.TrimPrefix(strings.SplitN(out, "\n", 2)[0], "Pacemaker ")
	d, err := qbipc.DialectForVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	return &sandbox{Cluster: c, version: version, dialect: d, legacy: strings.HasPrefix(version, "2.")}
}

func (s *sandbox) dial(t testing.TB, service string, maxMsgSize int) *qbipc.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := qbipc.DialInNamespace(ctx, s.InitPID, service, qbipc.Options{
		MaxMsgSize: maxMsgSize, Dialect: s.dialect, Compress: bzip2Program(),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := qbipc.TransportSHM
	if s.IPC == "socket" {
		want = qbipc.TransportSocket
	}
	if c.Transport() != want {
		t.Errorf("%s: transport %v, want %v", service, c.Transport(), want)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Error(err)
		}
	})
	return c
}

// cibMax is what Pacemaker's CIB library asks for: 512 KiB up to 3.0.0.
func (s *sandbox) cibMax() int {
	if s.dialect == qbipc.DialectA {
		return 512 * 1024
	}
	return 0
}

// controllerMsg builds a controller-style request (hello, ping) for this version.
func (s *sandbox) controllerMsg(task, sysTo, hostTo, data string) string {
	root, t, version := "message", sysTo, "3.20.0"
	if s.legacy {
		root, t, version = "create_request_adv", "crmd", "3.16.1"
	}
	if sysTo == "" {
		t = "crmd"
	}
	pid := os.Getpid()
	var b strings.Builder
	fmt.Fprintf(&b, `<%s origin="qbipc_test" t="%s" version="%s" subt="request" reference="%s-qbipc-%d-0" crm_task="%s"`,
		root, t, version, task, time.Now().Unix(), task)
	if sysTo != "" {
		fmt.Fprintf(&b, ` crm_sys_to="%s"`, sysTo)
	}
	fmt.Fprintf(&b, ` crm_sys_from="%d_qbipc"`, pid)
	if hostTo != "" {
		fmt.Fprintf(&b, ` crm_host_to="%s"`, hostTo)
	}
	if data == "" {
		return b.String() + "/>"
	}
	return b.String() + "><crm_xml>" + data + "</crm_xml></" + root + ">"
}

var attrRE = func(name string) *regexp.Regexp { return regexp.MustCompile(` ` + name + `="([^"]*)"`) }

func attr(t testing.TB, xml []byte, name string) string {
	t.Helper()
	m := attrRE(name).FindSubmatch(xml)
	if m == nil {
		t.Fatalf("no %s in %.300s", name, xml)
	}
	return string(m[1])
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestDaemons talks to every Pacemaker daemon, over shared memory and over sockets, on
// every release of the matrix.
func TestDaemons(t *testing.T) {
	for _, rel := range testcluster.Releases() {
		for _, ipc := range []string{"", "socket"} {
			name := rel + "/shm"
			if ipc != "" {
				name = rel + "/" + ipc
			}
			t.Run(name, func(t *testing.T) {
				s := newSandbox(t, rel, ipc)
				t.Logf("Pacemaker %s, dialect %v", s.version, s.dialect)
				t.Run("cib_ro", func(t *testing.T) { testCIBQuery(t, s, "cib_ro", true) })
				t.Run("cib_rw", func(t *testing.T) { testCIBQuery(t, s, "cib_rw", false) })
				t.Run("crmd", func(t *testing.T) { testControllerPing(t, s) })
				t.Run("pacemakerd", func(t *testing.T) { testPacemakerdPing(t, s) })
				t.Run("attrd", func(t *testing.T) { testAttrdQuery(t, s) })
				t.Run("stonith-ng", func(t *testing.T) { testFencerQuery(t, s) })
				t.Run("lrmd", func(t *testing.T) { testExecdSignOn(t, s) })
				t.Run("big", func(t *testing.T) { testBigRequest(t, s) })
				t.Run("leaks", func(t *testing.T) { testNoLeaks(t, s) })
				t.Run("killed", func(t *testing.T) { testDaemonKilled(t, s) })
			})
		}
	}
}

// cibRegister signs on to a CIB service and returns the client id.
func cibRegister(t testing.TB, c *qbipc.Client) string {
	t.Helper()
	m, err := c.Request(ctxTimeout(t, 10*time.Second),
		`<cib_command t="cib" cib_op="register" cib_clientname="qbipc_test" cib_callopt="4096"/>`, qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	// The root is a C function name: cib_common_callback_worker up to 3.0.0,
	// dispatch_common in 3.0.3.
	if !bytes.Contains(m.XML, []byte(`cib_op="register"`)) {
		t.Fatalf("register reply %s", m.XML)
	}
	return attr(t, m.XML, "cib_clientid")
}

const cibSyncCall = 0x1000

// cibXML is a CIB request as the CIB library builds it.
func cibXML(id string, callID int, op, section string, callopt int, data string) string {
	xml := fmt.Sprintf(`<cib_command t="cib" cib_async_id="%s" cib_op="%s" cib_callid="%d" cib_callopt="%d"`, id, op, callID, callopt)
	if section != "" {
		xml += fmt.Sprintf(` cib_section="%s"`, section)
	}
	if data == "" {
		return xml + "/>"
	}
	return xml + "><cib_calldata>" + data + "</cib_calldata></cib_command>"
}

// cibOp sends a CIB operation and returns its reply: on the response channel for a
// synchronous call, as an event otherwise (docs/protocol.md 7.4).
func cibOp(t testing.TB, c *qbipc.Client, id string, callID int, op, section string, callopt int, data string) *qbipc.Message {
	t.Helper()
	ctx := ctxTimeout(t, 60*time.Second)
	xml := cibXML(id, callID, op, section, callopt, data)
	if callopt&cibSyncCall != 0 {
		m, err := c.Request(ctx, xml, qbipc.FlagClientResponse)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return m
	}
	if _, err := c.Request(ctx, xml, 0); err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	for {
		m, err := c.RecvEventMessage(ctx)
		if err != nil {
			t.Fatalf("%s: event reply: %v", op, err)
		}
		// Skip notifications; the reply quotes our call id.
		if bytes.HasPrefix(m.XML, []byte("<cib-reply")) && attr(t, m.XML, "cib_callid") == fmt.Sprint(callID) {
			if m.Header.Flags&qbipc.FlagServerEvent == 0 {
				t.Errorf("event without the server-event flag: %#x", m.Header.Flags)
			}
			return m
		}
	}
}

func testCIBQuery(t *testing.T, s *sandbox, service string, sync bool) {
	c := s.dial(t, service, s.cibMax())
	id := cibRegister(t, c)
	callopt := 0
	if sync {
		callopt = cibSyncCall | 0x100 // crm_mon's 4352
	}
	m := cibOp(t, c, id, 2, "cib_query", "", callopt, "")
	if rc := attr(t, m.XML, "cib_rc"); rc != "0" || !bytes.Contains(m.XML, []byte("<cib ")) ||
		!bytes.Contains(m.XML, []byte(`name="stonith-enabled" value="false"`)) {
		t.Fatalf("query reply (rc %s) lacks the seeded CIB: %.500s", rc, m.XML)
	}
}

func testControllerPing(t *testing.T, s *sandbox) {
	c := s.dial(t, "crmd", 0)
	ctx := ctxTimeout(t, 30*time.Second)
	hello := s.controllerMsg("hello", "", "", fmt.Sprintf(
		`<options major_version="1" minor_version="0" client_name="qbipc_test" client_uuid="%d"/>`, os.Getpid()))
	if _, err := c.Request(ctx, hello, 0); err != nil {
		t.Fatal(err)
	}
	ack, err := c.Request(ctx, s.controllerMsg("ping", "crmd", "node1", ""), qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ack.XML, []byte("<ack")) {
		t.Errorf("ping answered %s, want an ack", ack.XML)
	}
	ev, err := c.RecvEventMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ev.XML, []byte("<ping_response")) || !bytes.Contains(ev.XML, []byte(`result="ok"`)) ||
		attr(t, ev.XML, "crm_subsystem") != "crmd" {
		t.Errorf("ping reply %s", ev.XML)
	}
}

func testPacemakerdPing(t *testing.T, s *sandbox) {
	c := s.dial(t, "pacemakerd", 0)
	ctx := ctxTimeout(t, 30*time.Second)
	ack, err := c.Request(ctx, s.controllerMsg("ping", "pacemakerd", "", ""), qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(ack.XML, []byte("<ack")) {
		t.Errorf("ping answered %s, want an ack", ack.XML)
	}
	ev, err := c.RecvEventMessage(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(ev.XML, []byte(`pacemakerd_state="running"`)) || !bytes.Contains(ev.XML, []byte(`result="ok"`)) {
		t.Errorf("ping reply %s", ev.XML)
	}
}

func testAttrdQuery(t *testing.T, s *sandbox) {
	s.MustExec(t, "attrd_updater", "-n", "qbipc-test", "-U", "42")
	c := s.dial(t, "attrd", 0)
	deadline := time.Now().Add(10 * time.Second)
	for {
		m, err := c.Request(ctxTimeout(t, 10*time.Second),
			`<create_attrd_op t="attrd" src="qbipc_test" task="query" attr_name="qbipc-test"/>`, qbipc.FlagClientResponse)
		if err != nil {
			t.Fatal(err)
		}
		// attrd applies updates asynchronously.
		if bytes.Contains(m.XML, []byte(`attr_value="42"`)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("query reply %s", m.XML)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func testFencerQuery(t *testing.T, s *sandbox) {
	c := s.dial(t, "stonith-ng", 0)
	ctx := ctxTimeout(t, 30*time.Second)
	reg, err := c.Request(ctx, `<stonith_command t="stonith-ng" st_op="register" st_clientname="qbipc_test"/>`, qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	id := attr(t, reg.XML, "st_clientid")
	m, err := c.Request(ctx, fmt.Sprintf(`<stonith_command t="stonith-ng" st_async_id="%s" st_op="st_query" st_callid="2" st_callopt="4096" st_timeout="120"><st_calldata><st_device_id st_origin="stonith_api_query" st_device_action="off"/></st_calldata></stonith_command>`, id), qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(m.XML, []byte(`st_op="st_query"`)) || attr(t, m.XML, "st_callid") != "2" {
		t.Errorf("query reply %s", m.XML)
	}
}

func testExecdSignOn(t *testing.T, s *sandbox) {
	c := s.dial(t, "lrmd", 0)
	proto := "1.2"
	if s.legacy {
		proto = "1.1"
	}
	m, err := c.Request(ctxTimeout(t, 30*time.Second), fmt.Sprintf(
		`<lrmd_command lrmd_origin="lrmd_handshake" t="lrmd" lrmd_op="register" lrmd_clientname="qbipc_test" lrmd_protocol_version="%s"/>`, proto),
		qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(m.XML, []byte("<lrmd_reply")) || attr(t, m.XML, "lrmd_rc") != "0" || attr(t, m.XML, "lrmd_clientid") == "" {
		t.Errorf("sign-on reply %s", m.XML)
	}
}

// testBigRequest writes a 200 KB property set (multipart on dialect B, plain text on a
// 512 KiB dialect-A connection), reads it back (a reply over 128 KiB: multipart or
// compressed), and on dialect A also writes 600 KB, which must be compressed.
func testBigRequest(t *testing.T, s *sandbox) {
	c := s.dial(t, "cib_rw", s.cibMax())
	id := cibRegister(t, c)
	sizes := []int{200_000}
	if s.dialect == qbipc.DialectA {
		if bzip2Program() == nil {
			t.Log("no bzip2 program: the 600 KB compressed request is skipped")
		} else {
			sizes = append(sizes, 600_000)
		}
	}
	for i, n := range sizes {
		setID := fmt.Sprintf("qbipc-big-%d", i)
		set := testcluster.PropertySet(setID, n)
		// How Request sends it: split on dialect B, compressed when over the
		// connection's maximum on dialect A.
		enc := qbipc.Encoder{Dialect: s.dialect, MaxSize: c.MaxMsgSize(), Compress: bzip2Program()}
		sent, err := enc.Encode(1, cibXML(id, 10+3*i, "cib_create", "crm_config", cibSyncCall, set), qbipc.FlagClientResponse)
		if err != nil {
			t.Fatal(err)
		}
		h, _, _ := qbipc.ParseHeader(s.dialect, sent[0])
		compressed := h.Flags&qbipc.FlagCompressed != 0
		if s.dialect == qbipc.DialectB && len(sent) < 2 || s.dialect == qbipc.DialectA && compressed != (n > c.MaxMsgSize()) {
			t.Fatalf("%d-byte request encoded as %d message(s), compressed %v", len(set), len(sent), compressed)
		}
		m := cibOp(t, c, id, 10+3*i, "cib_create", "crm_config", cibSyncCall, set)
		if rc := attr(t, m.XML, "cib_rc"); rc != "0" {
			t.Fatalf("create %d bytes: rc %s: %.300s", len(set), rc, m.XML)
		}
		t.Cleanup(func() {
			cibOp(t, c, id, 11+3*i, "cib_delete", "crm_config", cibSyncCall, fmt.Sprintf(`<cluster_property_set id="%s"/>`, setID))
		})
		q := cibOp(t, c, id, 12+3*i, "cib_query", "crm_config", cibSyncCall, "")
		if !bytes.Contains(q.XML, []byte(fmt.Sprintf(`id="%s-100"`, setID))) {
			t.Fatalf("the set is not in the CIB: %.300s", q.XML)
		}
		t.Logf("%d-byte request sent as %d message(s) of %d bytes (compressed %v); %d-byte reply in %d part(s), flags %#x",
			len(set), len(sent), len(sent[0]), compressed, len(q.XML), q.Parts, q.Header.Flags)
		switch s.dialect {
		case qbipc.DialectA:
			if q.Header.Flags&qbipc.FlagCompressed == 0 {
				t.Errorf("%d-byte reply not compressed", len(q.XML))
			}
		case qbipc.DialectB:
			if q.Parts < 2 {
				t.Errorf("%d-byte reply in %d part", len(q.XML), q.Parts)
			}
		}
	}
}

// testNoLeaks connects to and disconnects from a real daemon 100 times.
func testNoLeaks(t *testing.T, s *sandbox) {
	ctx := ctxTimeout(t, 120*time.Second)
	cycle := func() {
		c, err := qbipc.DialInNamespace(ctx, s.InitPID, "cib_ro", qbipc.Options{Dialect: s.dialect})
		if err != nil {
			t.Fatal(err)
		}
		cibRegister(t, c)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	cycle()
	fds, maps := count(t, "/proc/self/fd"), count(t, "/proc/self/maps")
	for range 100 {
		cycle()
	}
	if n := count(t, "/proc/self/fd"); n > fds {
		t.Errorf("%d descriptors after 100 connections, %d before", n, fds)
	}
	if n := count(t, "/proc/self/maps"); n > maps+20 {
		t.Errorf("%d mappings after 100 connections, %d before", n, maps)
	}
	if b, _ := os.ReadFile("/proc/self/maps"); bytes.Contains(b, []byte("/qb-")) {
		t.Errorf("ring files still mapped")
	}
}

func count(t testing.TB, path string) int {
	t.Helper()
	if strings.HasSuffix(path, "/fd") {
		ents, err := os.ReadDir(path)
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

// testDaemonKilled kills pacemaker-attrd (pacemakerd starts a new one) under a connected
// client: blocked and later calls must fail with ErrDisconnected, not hang.
func testDaemonKilled(t *testing.T, s *sandbox) {
	c := s.dial(t, "attrd", 0)
	pid, _, _ := c.Server()
	if pid <= 0 {
		t.Fatalf("server pid %d", pid)
	}
	errs := make(chan error, 2)
	go func() { _, err := c.Recv(context.Background()); errs <- err }()
	go func() { _, err := c.RecvEvent(context.Background()); errs <- err }()
	time.Sleep(50 * time.Millisecond)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(5 * time.Second)
	for range 2 {
		select {
		case err := <-errs:
			if !errors.Is(err, qbipc.ErrDisconnected) {
				t.Errorf("receive after the daemon died: %v, want ErrDisconnected", err)
			}
		case <-timeout:
			t.Fatal("receive still blocked 5 s after the daemon died")
		}
	}
	var err error
	for range 3 {
		if err = c.Send(context.Background(), make([]byte, 64)); err != nil {
			break
		}
	}
	if !errors.Is(err, qbipc.ErrDisconnected) {
		t.Errorf("send after the daemon died: %v, want ErrDisconnected", err)
	}
	// Wait until pacemakerd has a new attrd, for whatever runs next.
	deadline := time.Now().Add(30 * time.Second)
	for {
		c2, err := qbipc.DialInNamespace(ctxTimeout(t, 5*time.Second), s.InitPID, "attrd", qbipc.Options{Dialect: s.dialect})
		if err == nil {
			c2.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("attrd not back: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// bzip2Program compresses with the bzip2 program (Go's standard library has no bzip2
// writer); nil when it is missing.
func bzip2Program() func([]byte) ([]byte, error) {
	if _, err := exec.LookPath("bzip2"); err != nil {
		return nil
	}
	return func(p []byte) ([]byte, error) {
		cmd := exec.Command("bzip2", "-c", "-4")
		cmd.Stdin = bytes.NewReader(p)
		return cmd.Output()
	}
}

// BenchmarkRoundTrip measures a synchronous cib_ro query of the whole CIB (what crm_mon
// does), request to reply, on every release and transport.
func BenchmarkRoundTrip(b *testing.B) {
	for _, rel := range testcluster.Releases() {
		for _, ipc := range []string{"", "socket"} {
			name := rel + "/shm"
			if ipc != "" {
				name = rel + "/" + ipc
			}
			b.Run(name, func(b *testing.B) {
				s := newSandbox(b, rel, ipc)
				c := s.dial(b, "cib_ro", s.cibMax())
				xml := fmt.Sprintf(`<cib_command t="cib" cib_async_id="%s" cib_op="cib_query" cib_callid="2" cib_callopt="4352"/>`, cibRegister(b, c))
				ctx := context.Background()
				var size int
				for b.Loop() {
					m, err := c.Request(ctx, xml, qbipc.FlagClientResponse)
					if err != nil {
						b.Fatal(err)
					}
					size = len(m.XML)
				}
				b.ReportMetric(float64(size), "reply-bytes")
			})
		}
	}
}

//go:build linux && amd64

package capture

import (
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
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

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

// TestSnaplenSparesCompressed: with a snaplen and SnapCompressedWhole (as
// top records), plain messages longer than the snaplen are cut to it and
// bzip2-compressed ones are copied whole, so their start tag can still be
// read; on both transports (the socket one sends the envelope in its first
// iovec). A 60 KB property set goes as plain text; a 200 KB one is
// compressed by 2.1.x on its way in or out (over the 128 KiB default).
func TestSnaplenSparesCompressed(t *testing.T) {
	for _, ipc := range []string{"", "socket"} {
		name := ipc
		if name == "" {
			name = "shm"
		}
		t.Run(name, func(t *testing.T) { testSnaplenSparesCompressed(t, ipc) })
	}
}

func testSnaplenSparesCompressed(t *testing.T, ipc string) {
	c := testcluster.RequireConfig(t, testcluster.Config{Release: "bookworm", IPC: ipc})
	ns, err := PIDNamespaceOf(c.InitPID)
	if err != nil {
		t.Fatal(err)
	}
	const snap = 2048
	tr := openTracer(t, Config{Services: []string{"cib_rw"}, PIDNamespaces: []uint32{ns}, Snaplen: snap, SnapCompressedWhole: true})
	if ipc == "socket" {
		waitSocketHooks(t, tr)
	}
	cibadmin := func(stdin string, args ...string) {
		t.Helper()
		cmd := c.Command(context.Background(), "cibadmin", args...)
		cmd.Stdin = strings.NewReader(stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("cibadmin %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	for _, set := range []struct {
		id   string
		size int
	}{{"snap-plain", 60 << 10}, {"snap-compressed", 200 << 10}} {
		cibadmin(testcluster.PropertySet(set.id, set.size), "--create", "-o", "crm_config", "--xml-pipe")
		cibadmin("", "-Q", "-o", "crm_config")
		cibadmin("", "--delete", "-o", "crm_config", "-X", `<cluster_property_set id="`+set.id+`"/>`)
	}
	var cut, whole int
	for _, r := range collect(t, tr, 500*time.Millisecond) {
		if r.Kind != capfile.KindMessage || r.OrigLen <= snap {
			continue
		}
		d := r.Data
		compressed := len(d) >= 40 && binary.LittleEndian.Uint32(d[28:]) != 0 && d[32]&1 != 0 && d[36] == 1
		truncated := r.Flags&capfile.FlagTruncated != 0
		switch {
		case compressed && (truncated || len(d) != int(r.OrigLen)):
			t.Errorf("#%d (%s, %s, %d bytes) is compressed, yet %d bytes were copied", r.Seq, r.Transport, r.Channel, r.OrigLen, len(d))
		case compressed:
			whole++
		case !truncated || len(d) != snap:
			t.Errorf("#%d (%s, %s, %d bytes) is plain text: want %d bytes copied and the truncated flag, got %d (flag %v)", r.Seq, r.Transport, r.Channel, r.OrigLen, snap, len(d), truncated)
		default:
			cut++
		}
	}
	if cut == 0 || whole == 0 {
		t.Fatalf("%d plain messages cut to %d bytes, %d compressed ones copied whole: want both", cut, snap, whole)
	}
}

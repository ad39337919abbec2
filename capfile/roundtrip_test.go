package capfile

import (
	"bytes"
	"io"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// roundTripCases covers every kind and enum value, the field limits and
// the packet split.
func roundTripCases() []struct {
	desc string
	rec  *Record
} {
	response := sample(2, []byte("<cib_result/>"))
	response.Channel, response.Hook = ChannelResponse, HookRBCommit
	response.PID, response.TID, response.Comm = 567, 567, "pacemaker-based"

	rx := sample(3, payload(300, 3))
	rx.Channel, rx.Hook, rx.Flags = ChannelResponse, HookRBRead, FlagRX

	peek := sample(4, payload(40, 4))
	peek.Hook, peek.Flags = HookRBPeek, FlagRX

	event := sample(5, payload(1000, 5))
	event.Channel = ChannelEvent

	sock := sample(6, payload(77, 6))
	sock.Transport, sock.Hook = TransportSocket, HookSockSend

	sockRecv := sample(7, payload(78, 7))
	sockRecv.Transport, sockRecv.Hook, sockRecv.Flags = TransportSocket, HookSockRecv, FlagRX

	connect := sample(8, nil)
	connect.Kind, connect.Channel, connect.Hook, connect.MaxMsgSize = KindConnect, ChannelNone, HookConnect, 5<<20

	disconnect := sample(9, nil)
	disconnect.Kind, disconnect.Channel, disconnect.Hook = KindDisconnect, ChannelNone, HookDisconnect

	loss := &Record{Kind: KindLoss, Time: time.Unix(1700000001, 0), Seq: 10, Lost: 42, Cause: LossRingFull}

	truncated := sample(11, payload(100, 11))
	truncated.OrigLen, truncated.Flags = 5000, FlagTruncated

	empty := sample(12, []byte{})

	longest := sample(13, payload(10, 13))
	longest.Comm = strings.Repeat("c", 15)
	longest.Service = strings.Repeat("s", 31)
	longest.Conn = strings.Repeat("k", 47)

	maxed := sample(math.MaxUint64, payload(3, 14))
	maxed.PID, maxed.TID, maxed.NSPID, maxed.UID = math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32
	maxed.PIDNS, maxed.MntNS, maxed.ClientPID, maxed.ServerPID = math.MaxUint32, math.MaxUint32, math.MaxUint32, math.MaxUint32
	maxed.MaxMsgSize, maxed.Lost, maxed.Cause = math.MaxUint32, math.MaxUint32, math.MaxUint32

	unknown := sample(15, payload(5, 15))
	unknown.Kind, unknown.Channel, unknown.Transport, unknown.Hook = 200, 201, 202, 203
	unknown.Flags = 1 << 20

	zeroTime := sample(16, payload(5, 16))
	zeroTime.Time = time.Time{}

	nanos := sample(17, payload(5, 17))
	nanos.Time = time.Date(2026, 2, 3, 4, 5, 6, 999999999, time.UTC)

	return []struct {
		desc string
		rec  *Record
	}{
		{"request written by the client", sample(1, []byte("<cib_command op=\"cib_query\"/>\x00"))},
		{"response written by the server", response},
		{"response read by the client (rx)", rx},
		{"request peeked by the server (rx)", peek},
		{"event", event},
		{"socket transport, send", sock},
		{"socket transport, receive", sockRecv},
		{"connect with negotiated size", connect},
		{"disconnect", disconnect},
		{"loss record", loss},
		{"truncated by the copy limit", truncated},
		{"empty message", empty},
		{"strings at their longest", longest},
		{"every number at its maximum", maxed},
		{"values this version does not know", unknown},
		{"zero time", zeroTime},
		{"nanosecond time", nanos},
		{"exactly one full packet", sample(18, payload(maxChunk, 18))},
		{"one byte more than a packet", sample(19, payload(maxChunk+1, 19))},
		{"5 MiB message in continuation packets", sample(20, payload(5<<20, 20))},
		{"truncated message in continuation packets", func() *Record {
			r := sample(21, payload(3*maxChunk+5, 21))
			r.OrigLen, r.Flags = 5<<20, FlagTruncated
			return r
		}()},
		{"small message after a split one", sample(22, payload(10, 22))},
	}
}

func TestRoundTrip(t *testing.T) {
	cases := roundTripCases()
	var recs []*Record
	for _, c := range cases {
		recs = append(recs, c.rec)
	}
	file := writeFile(t, recs...)

	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	packetNum := 1
	for _, c := range cases {
		got, err := r.Next()
		if err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		if d := sameRecord(got, c.rec); d != "" {
			t.Errorf("%s: %s", c.desc, d)
		}
		if got.Packet != packetNum {
			t.Errorf("%s: packet %d, want %d", c.desc, got.Packet, packetNum)
		}
		packetNum += max(1, (len(c.rec.Data)+maxChunk-1)/maxChunk)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("after the last record: %v, want io.EOF", err)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("second call after the last record: %v, want io.EOF", err)
	}
}

// TestReadInto checks that a reused Record gets every field overwritten.
func TestReadInto(t *testing.T) {
	a := sample(1, payload(5000, 1))
	b := &Record{Kind: KindLoss, Seq: 2, Lost: 1}
	file := writeFile(t, a, b)
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	var rec Record
	for _, want := range []*Record{a, b} {
		if err := r.ReadInto(&rec); err != nil {
			t.Fatal(err)
		}
		if d := sameRecord(&rec, want); d != "" {
			t.Errorf("seq %d: %s", want.Seq, d)
		}
	}
}

// TestPcapgoReadsFile reads a written file with gopacket's own reader, to
// check the pcapng does not rely on our reader's leniency, and checks the
// interface, the packet sizes, comments and direction flags.
func TestPcapgoReadsFile(t *testing.T) {
	cases := roundTripCases()
	var recs []*Record
	for _, c := range cases {
		recs = append(recs, c.rec)
	}
	file := writeFile(t, recs...)

	ng, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	if lt := ng.LinkType(); lt != LinkTypeUser0 {
		t.Errorf("link type %d, want %d", lt, LinkTypeUser0)
	}
	intf, err := ng.Interface(0)
	if err != nil {
		t.Fatal(err)
	}
	if intf.Name != interfaceName || intf.SnapLength != MaxPacketLen || intf.TimestampResolution != 9 {
		t.Errorf("interface %q snaplen %d tsresol %d", intf.Name, intf.SnapLength, intf.TimestampResolution)
	}
	for _, c := range cases {
		rec := c.rec
		n := max(1, (len(rec.Data)+maxChunk-1)/maxChunk)
		for i := range n {
			data, ci, opts, err := ng.ReadPacketDataWithOptions()
			if err != nil {
				t.Fatalf("%s: packet %d: %v", c.desc, i, err)
			}
			if len(data) > MaxPacketLen || ci.CaptureLength != len(data) {
				t.Errorf("%s: packet %d has %d bytes", c.desc, i, len(data))
			}
			if wantComments := map[bool]int{true: 1}[i == 0]; len(opts.Comments) != wantComments {
				t.Errorf("%s: packet %d has comments %q", c.desc, i, opts.Comments)
			}
			wantDir := pcapgo.NgEpbFlagDirectionUnknown
			switch {
			case rec.Flags&FlagRX != 0, rec.Channel == ChannelResponse, rec.Channel == ChannelEvent:
				wantDir = pcapgo.NgEpbFlagDirectionInbound
			case rec.Channel == ChannelRequest:
				wantDir = pcapgo.NgEpbFlagDirectionOutbound
			}
			gotDir := pcapgo.NgEpbFlagDirectionUnknown
			if opts.Flags != nil {
				gotDir = opts.Flags.Direction
			}
			if gotDir != wantDir {
				t.Errorf("%s: packet %d direction %d, want %d", c.desc, i, gotDir, wantDir)
			}
		}
	}
	if _, _, err := ng.ReadPacketData(); err != io.EOF {
		t.Errorf("after the last packet: %v, want io.EOF", err)
	}
}

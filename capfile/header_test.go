package capfile

import (
	"bytes"
	"encoding/binary"
	"testing"
)

// TestHeaderLayout pins every field of the pseudo-header to the offset and
// size FORMAT.md gives it.
func TestHeaderLayout(t *testing.T) {
	rec := &Record{
		Kind: KindConnect, Channel: ChannelEvent, Transport: TransportSocket, Hook: HookSockRecv,
		Seq: 0x0102030405060708, OrigLen: 0x11111111,
		PID: 0x22222222, TID: 0x33333333, NSPID: 0x44444444, UID: 0x55555555,
		PIDNS: 0x66666666, MntNS: 0x77777777, ClientPID: 0x88888888, ServerPID: 0x99999999,
		MaxMsgSize: 0xaaaaaaaa, Lost: 0xbbbbbbbb, Cause: 0xcccccccc,
		Comm: "comm", Service: "service", Conn: "conn",
	}
	b := make([]byte, HeaderLen)
	putHeader(b, rec, FlagRX|FlagCont, 0xdddddddd)

	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	pad := func(s string, n int) []byte { return append([]byte(s), make([]byte, n-len(s))...) }
	cases := []struct {
		desc string
		off  int
		want []byte
	}{
		{"magic", 0, []byte("PCMK")},
		{"version", 4, []byte{1, 0}},
		{"header length", 6, []byte{176, 0}},
		{"kind", 8, []byte{2}},
		{"channel", 9, []byte{3}},
		{"transport", 10, []byte{2}},
		{"hook", 11, []byte{5}},
		{"flags", 12, le32(uint32(FlagRX | FlagCont))},
		{"seq", 16, binary.LittleEndian.AppendUint64(nil, 0x0102030405060708)},
		{"orig_len", 24, le32(0x11111111)},
		{"offset", 28, le32(0xdddddddd)},
		{"pid", 32, le32(0x22222222)},
		{"tid", 36, le32(0x33333333)},
		{"ns_pid", 40, le32(0x44444444)},
		{"uid", 44, le32(0x55555555)},
		{"pidns", 48, le32(0x66666666)},
		{"mntns", 52, le32(0x77777777)},
		{"client_pid", 56, le32(0x88888888)},
		{"server_pid", 60, le32(0x99999999)},
		{"max_msg_size", 64, le32(0xaaaaaaaa)},
		{"lost", 68, le32(0xbbbbbbbb)},
		{"cause", 72, le32(0xcccccccc)},
		{"reserved", 76, le32(0)},
		{"comm", 80, pad("comm", 16)},
		{"service", 96, pad("service", 32)},
		{"conn", 128, pad("conn", 48)},
	}
	next := 0
	for _, c := range cases {
		if c.off != next {
			t.Errorf("%s: at %d, but the field before ends at %d", c.desc, c.off, next)
		}
		next = c.off + len(c.want)
		if got := b[c.off:next]; !bytes.Equal(got, c.want) {
			t.Errorf("%s: bytes %d-%d are % x, want % x", c.desc, c.off, next-1, got, c.want)
		}
	}
	if next != HeaderLen {
		t.Errorf("fields end at %d, want %d", next, HeaderLen)
	}
}

// TestPutHeaderClearsStrings checks a reused buffer keeps no bytes of a
// longer earlier string.
func TestPutHeaderClearsStrings(t *testing.T) {
	b := make([]byte, HeaderLen)
	putHeader(b, &Record{Comm: "pacemaker-based"}, 0, 0)
	putHeader(b, &Record{Comm: "crmd"}, 0, 0)
	if got := b[offComm:offService]; !bytes.Equal(got, append([]byte("crmd"), make([]byte, 12)...)) {
		t.Errorf("comm field % x", got)
	}
}

func TestNames(t *testing.T) {
	cases := []struct {
		desc string
		got  string
		want string
	}{
		{"kind", KindLoss.String(), "loss"},
		{"unknown kind", Kind(9).String(), "Kind(9)"},
		{"channel", ChannelResponse.String(), "response"},
		{"transport", TransportSHM.String(), "shm"},
		{"hook", HookRBPeek.String(), "rb-peek"},
		{"cause", LossRingFull.String(), "ring_full"},
		{"large unknown cause", LossCause(1 << 31).String(), "LossCause(2147483648)"},
		{"no flags", Flags(0).String(), "0"},
		{"flags", (FlagTruncated | FlagRX).String(), "truncated|rx"},
		{"unknown flags", (FlagMore | 1<<8).String(), "more|0x100"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: %q, want %q", c.desc, c.got, c.want)
		}
	}
}

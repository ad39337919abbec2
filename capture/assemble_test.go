package capture

import (
	"bytes"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// testPiece returns a ring buffer record: h, then data, in one aligned buffer.
func testPiece(h pieceHdr, data []byte) []byte {
	buf := make([]uint64, (pieceHdrSize+len(data)+7)/8)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), pieceHdrSize+len(data))
	*(*pieceHdr)(unsafe.Pointer(&raw[0])) = h
	copy(raw[pieceHdrSize:], data)
	return raw
}

// testHdr returns the header of a message of capLen bytes on connection conn.
func testHdr(seq uint64, capLen uint32, conn string) pieceHdr {
	h := pieceHdr{Seq: seq, Ktime: 1000, OrigLen: capLen + 5, CapLen: capLen, Pid: 7, Nspid: 3,
		Kind: uint8(capfile.KindMessage), Channel: uint8(capfile.ChannelRequest), Flags: uint32(capfile.FlagTruncated)}
	for i := range len(conn) {
		h.Conn[i] = int8(conn[i])
	}
	copy(h.Comm[:], []int8{'c', 'i', 'b'})
	return h
}

// pieces splits msg into pieces of at most size bytes.
func pieces(h pieceHdr, msg []byte, size int) [][]byte {
	var out [][]byte
	for off := 0; off < len(msg); off += size {
		end := min(off+size, len(msg))
		p := h
		p.Offset, p.Len = uint32(off), uint32(end-off)
		out = append(out, testPiece(p, msg[off:end]))
	}
	return out
}

func testMessage(n int, b byte) []byte {
	msg := make([]byte, n)
	for i := range msg {
		msg[i] = b + byte(i%7)
	}
	return msg
}

func TestAssembleWhole(t *testing.T) {
	a := assembler{wallOff: 500}
	msg := testMessage(100, 'a')
	h := testHdr(1, 100, "qb-54-176-12-RSejQ5")
	h.Len = 100
	rec := a.piece(testPiece(h, msg))
	if rec == nil {
		t.Fatal("no record for a message in one piece")
	}
	want := capfile.Record{Kind: capfile.KindMessage, Time: time.Unix(0, 1500), Seq: 1, Channel: capfile.ChannelRequest,
		Flags: capfile.FlagTruncated, OrigLen: 105, PID: 7, NSPID: 3, Comm: "cib", Conn: "qb-54-176-12-RSejQ5",
		ServerPID: 54, ClientPID: 176}
	got := *rec
	got.Data = nil
	if !got.Time.Equal(want.Time) {
		t.Errorf("time %v, want %v", got.Time, want.Time)
	}
	got.Time = want.Time
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record\n%+v, want\n%+v", got, want)
	}
	if !bytes.Equal(rec.Data, msg) {
		t.Error("data differs")
	}
	if a.messages.Load() != 1 || a.bytes.Load() != 100 {
		t.Errorf("counted %d messages, %d bytes", a.messages.Load(), a.bytes.Load())
	}
}

// Pieces of two messages, interleaved as two CPUs would emit them, come
// back as the two messages, each once its last piece is in.
func TestAssemblePieces(t *testing.T) {
	var a assembler
	m1, m2 := testMessage(80<<10, 'a'), testMessage(40<<10, 'A')
	p1 := pieces(testHdr(10, uint32(len(m1)), "qb-1-2-3-x"), m1, 32<<10)
	p2 := pieces(testHdr(11, uint32(len(m2)), "qb-4-5-6-y"), m2, 32<<10)
	if len(p1) != 3 || len(p2) != 2 {
		t.Fatalf("%d and %d pieces", len(p1), len(p2))
	}
	var got []*capfile.Record
	for _, raw := range [][]byte{p1[0], p2[0], p1[1], p2[1], p1[2]} {
		if rec := a.piece(raw); rec != nil {
			got = append(got, rec)
		}
	}
	if len(got) != 2 {
		t.Fatalf("%d records, want 2", len(got))
	}
	if !bytes.Equal(got[0].Data, m2) || got[0].Seq != 1 || got[0].Conn != "qb-4-5-6-y" {
		t.Errorf("first record: seq %d, conn %q, %d bytes", got[0].Seq, got[0].Conn, len(got[0].Data))
	}
	if !bytes.Equal(got[1].Data, m1) || got[1].Seq != 2 || got[1].Conn != "qb-1-2-3-x" {
		t.Errorf("second record: seq %d, conn %q, %d bytes", got[1].Seq, got[1].Conn, len(got[1].Data))
	}
	if len(a.partial) != 0 || a.reassembly.Load() != 0 {
		t.Errorf("%d partial messages, %d reassembly losses left", len(a.partial), a.reassembly.Load())
	}
}

// Pieces that cannot be part of a message are counted; pieces of a message
// whose start was not seen are not (the kernel counted them).
func TestAssembleBadPieces(t *testing.T) {
	var a assembler
	msg := testMessage(64<<10, 'a')
	h := testHdr(1, uint32(len(msg)), "")
	p := pieces(h, msg, 32<<10)
	if rec := a.piece(p[1]); rec != nil || a.reassembly.Load() != 0 {
		t.Errorf("a message's tail alone: record %v, %d reassembly losses", rec != nil, a.reassembly.Load())
	}
	over := h
	over.Offset, over.Len = 40<<10, 32<<10 // past CapLen
	long := h
	long.Len = 100 // more than the piece holds
	for i, raw := range [][]byte{make([]byte, pieceHdrSize-1), testPiece(over, msg[:32<<10]), testPiece(long, msg[:10])} {
		if rec := a.piece(raw); rec != nil {
			t.Errorf("bad piece %d gave a record", i)
		}
		if n := a.reassembly.Load(); n != uint64(i+1) {
			t.Errorf("bad piece %d: %d reassembly losses", i, n)
		}
	}
}

// A message whose pieces stopped coming is dropped after partialTimeout, or
// at the end.
func TestAssembleExpire(t *testing.T) {
	var a assembler
	msg := testMessage(64<<10, 'a')
	a.piece(pieces(testHdr(1, uint32(len(msg)), ""), msg, 32<<10)[0])
	if len(a.partial) != 1 {
		t.Fatalf("%d partial messages, want 1", len(a.partial))
	}
	a.expire(time.Now(), false)
	if len(a.partial) != 1 {
		t.Fatal("a message was dropped before its time")
	}
	a.expire(time.Now().Add(partialTimeout+time.Second), false)
	if len(a.partial) != 0 {
		t.Fatal("a stale message was kept")
	}
	a.piece(pieces(testHdr(2, uint32(len(msg)), ""), msg, 32<<10)[0])
	a.expire(time.Now(), true)
	if len(a.partial) != 0 {
		t.Fatal("the final expiry kept a message")
	}
}

// A recycled record's memory serves the next message that fits in it.
func TestAssembleRecycle(t *testing.T) {
	var a assembler
	msg := testMessage(200, 'a')
	h := testHdr(1, 200, "")
	h.Len = 200
	first := a.piece(testPiece(h, msg))
	a.recycle(first)
	small := testHdr(2, 50, "")
	small.Len = 50
	second := a.piece(testPiece(small, msg[:50]))
	if second != first || cap(second.Data) != 200 {
		t.Errorf("the recycled record was not reused")
	}
	if !bytes.Equal(second.Data, msg[:50]) || second.Seq != 2 {
		t.Errorf("reused record: seq %d, data %q", second.Seq, second.Data)
	}
	big := testHdr(3, 300, "")
	big.Len = 300
	a.recycle(second)
	if third := a.piece(testPiece(big, testMessage(300, 'b'))); third == second {
		t.Error("a record too small was reused")
	}
	a.recycle(&capfile.Record{Data: make([]byte, maxSpareData+1)})
	a.recycle(nil)
	if len(a.spare) != 1 {
		t.Errorf("%d spare records, want the one too small", len(a.spare))
	}
}

// Names seen again are not allocated again.
func TestAssembleAllocations(t *testing.T) {
	var a assembler
	h := testHdr(1, 100, "qb-54-176-12-RSejQ5")
	h.Len = 100
	raw := testPiece(h, testMessage(100, 'a'))
	a.recycle(a.piece(raw))
	if n := testing.AllocsPerRun(100, func() { a.recycle(a.piece(raw)) }); n != 0 {
		t.Errorf("%v allocations per recycled message", n)
	}
}

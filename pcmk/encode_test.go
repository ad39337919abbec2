package pcmk

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestEncodeDialectA(t *testing.T) {
	e := Encoder{Dialect: DialectA, MaxSize: 131072}
	msgs, err := e.Encode(1, registerXML, FlagClientResponse)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Encode: %d messages, %v", len(msgs), err)
	}
	want, _ := hex.DecodeString("01000000000000007e000000000000000000000000000000560000000000000000020000" + "01000000")
	if got := msgs[0][:EnvelopeLen]; !bytes.Equal(got, want) {
		t.Errorf("header\n% x\nwant\n% x", got, want)
	}
	if len(msgs[0]) != 126 || msgs[0][125] != 0 {
		t.Errorf("%d bytes, want 126 ending in NUL", len(msgs[0]))
	}
	h, _, err := ParseHeader(msgs[0], DialectAuto)
	if err != nil || h.Dialect != DialectA || h.ID != 1 || h.Flags != FlagClientResponse {
		t.Fatalf("ParseHeader = %+v, %v", h, err)
	}
	if text, _, err := h.PlainText(msgs[0][EnvelopeLen:]); err != nil || string(text) != registerXML {
		t.Errorf("text %q, %v", text, err)
	}
}

func TestEncodeDialectACompressed(t *testing.T) {
	big := bigCIB(300000)
	calls := 0
	counting := func(text []byte) ([]byte, error) { calls++; return Compress(text) }
	for _, e := range []Encoder{{Dialect: DialectA, MaxSize: 131072}, {Dialect: DialectA, MaxSize: 131072, Compress: counting}} {
		msgs, err := e.Encode(2, big, 0)
		if err != nil {
			t.Fatal(err)
		}
		h, _, err := ParseHeader(msgs[0], DialectAuto)
		if err != nil || h.Dialect != DialectA {
			t.Fatalf("ParseHeader: %+v, %v", h, err)
		}
		if h.Flags != FlagCompressed || h.SizeUncompressed != uint32(len(big)+1) || int(h.SizeCompressed) != len(msgs[0])-EnvelopeLen {
			t.Errorf("header %+v", h)
		}
		if !bytes.HasPrefix(msgs[0][EnvelopeLen:], []byte("BZh4")) {
			t.Error("payload is not bzip2 with block size 4")
		}
		text, err := Decompress(msgs[0][EnvelopeLen:], h.SizeUncompressed, 0)
		if err != nil || string(text) != big {
			t.Fatalf("round trip: %v", err)
		}
	}
	if calls != 1 {
		t.Errorf("Encoder.Compress called %d times, want 1", calls)
	}
	// Just below the limit stays text.
	e := Encoder{Dialect: DialectA, MaxSize: EnvelopeLen + len(big) + 2}
	if msgs, _ := e.Encode(3, big, 0); len(msgs[0]) != EnvelopeLen+len(big)+1 {
		t.Error("message one byte under the limit was compressed")
	}
	// Still too large when compressed.
	e = Encoder{Dialect: DialectA, MaxSize: 100}
	if _, err := e.Encode(4, big, 0); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large compressed: %v, want ErrTooLarge", err)
	}
	failing := Encoder{Dialect: DialectA, MaxSize: 100, Compress: func([]byte) ([]byte, error) { return nil, errors.New("no") }}
	if _, err := failing.Encode(5, big, 0); err == nil {
		t.Error("a failing compressor went unnoticed")
	}
}

func TestEncodeDialectB(t *testing.T) {
	for _, c := range []struct {
		name  string
		n     int
		sizes []uint32 // per part: size field
		flags []Flags
	}{
		{"single", 100, []uint32{101}, []Flags{FlagClientResponse}},
		{"largest single", MaxPartText - 1, []uint32{MaxPartText}, []Flags{FlagClientResponse}},
		// A remainder of exactly MaxPartText goes as a full part plus a NUL-only part.
		{"exactly one part", MaxPartText, []uint32{MaxPartText + 1, 1},
			[]Flags{FlagClientResponse | FlagMultipart, FlagClientResponse | FlagMultipart | FlagMultipartEnd}},
		// docs/protocol.md 6.7's example.
		{"300000", 300000, []uint32{131032, 131032, 37939},
			[]Flags{FlagClientResponse | FlagMultipart, FlagClientResponse | FlagMultipart, FlagClientResponse | FlagMultipart | FlagMultipartEnd}},
	} {
		t.Run(c.name, func(t *testing.T) {
			xml := strings.Repeat("x", c.n)
			msgs, err := (&Encoder{Dialect: DialectB}).Encode(9, xml, FlagClientResponse)
			if err != nil {
				t.Fatal(err)
			}
			if len(msgs) != len(c.sizes) {
				t.Fatalf("%d parts, want %d", len(msgs), len(c.sizes))
			}
			r := NewReassembler[int, int](0)
			for i, msg := range msgs {
				h, _, err := ParseHeader(msg, DialectAuto)
				if err != nil || h.Dialect != DialectB {
					t.Fatalf("part %d: %+v %v", i, h, err)
				}
				if h.ID != 9 || h.PartSize != c.sizes[i] || h.Flags != c.flags[i] || h.PartID != uint16(i) || int(h.Size) > PartBufferSize {
					t.Errorf("part %d header %+v", i, h)
				}
				if h.Flags&FlagMultipart == 0 {
					continue
				}
				done := r.Add(0, i, h.ID, h.Envelope, msg[EnvelopeLen:], false, len(msg))
				if last := i == len(msgs)-1; (len(done) == 1) != last {
					t.Fatalf("part %d: %d messages done", i, len(done))
				}
				if len(done) == 1 && (done[0].Err != nil || string(done[0].Text) != xml || done[0].Parts != len(msgs)) {
					t.Errorf("reassembled %d bytes in %d parts, %v", len(done[0].Text), done[0].Parts, done[0].Err)
				}
			}
		})
	}
}

// AppendOne writes what Encode writes, also over a buffer that held a
// longer message, and leaves messages that must be compressed or split to
// Encode.
func TestAppendOne(t *testing.T) {
	for _, e := range []Encoder{{Dialect: DialectA, MaxSize: 131072}, {Dialect: DialectB}} {
		buf := bytes.Repeat([]byte{0xff}, 300)
		for _, xml := range []string{strings.Repeat("y", 250), registerXML, ""} {
			want, err := e.Encode(7, xml, FlagClientResponse)
			if err != nil || len(want) != 1 {
				t.Fatalf("%v: Encode: %d messages, %v", e.Dialect, len(want), err)
			}
			var ok bool
			buf, ok = e.AppendOne(buf[:0], 7, xml, FlagClientResponse)
			if !ok || !bytes.Equal(buf, want[0]) {
				t.Errorf("%v: AppendOne(%d bytes) = %v\n% x\nwant\n% x", e.Dialect, len(xml), ok, buf, want[0])
			}
		}
	}
	big := strings.Repeat("z", PartBufferSize)
	for _, e := range []Encoder{{Dialect: DialectA, MaxSize: 131072}, {Dialect: DialectB}} {
		if got, ok := e.AppendOne([]byte("x"), 7, big, 0); ok || string(got) != "x" {
			t.Errorf("%v: AppendOne of a %d-byte text = %d bytes, %v; want it left to Encode", e.Dialect, len(big), len(got), ok)
		}
	}
	if _, err := (&Encoder{}).Encode(1, "<a/>", 0); err == nil {
		t.Error("Encode without a dialect succeeded")
	}
}

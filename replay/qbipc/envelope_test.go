package qbipc

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// bzip2Command compresses with the bzip2 program, standing in for a Go bzip2 writer in
// tests; nil when the program is missing.
func bzip2Command() func([]byte) ([]byte, error) {
	if _, err := exec.LookPath("bzip2"); err != nil {
		return nil
	}
	return func(p []byte) ([]byte, error) {
		cmd := exec.Command("bzip2", "-c", "-4")
		cmd.Stdin = bytes.NewReader(p)
		return cmd.Output()
	}
}

// The cibadmin register request observed live (docs/protocol.md 6.2).
const registerXML = `<cib_command t="cib" cib_op="register" cib_clientname="cibadmin" cib_callopt="4096"/>`

func TestEncodeDialectA(t *testing.T) {
	e := Encoder{Dialect: DialectA, MaxSize: 131072}
	msgs, err := e.Encode(1, registerXML, FlagClientResponse)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("Encode: %d messages, %v", len(msgs), err)
	}
	want, _ := hex.DecodeString("01000000000000007e000000000000000000000000000000560000000000000000020000" + "01000000")
	if got := msgs[0][:HeaderSize]; !bytes.Equal(got, want) {
		t.Errorf("header\n% x\nwant\n% x", got, want)
	}
	if len(msgs[0]) != 126 || msgs[0][125] != 0 {
		t.Errorf("%d bytes, want 126 ending in NUL", len(msgs[0]))
	}
	if d := DetectDialect(msgs[0]); d != DialectA {
		t.Errorf("DetectDialect = %v", d)
	}
	m, err := new(Assembler).Add(msgs[0])
	if err != nil || string(m.XML) != registerXML || m.Header.ID != 1 || m.Header.Flags != FlagClientResponse {
		t.Errorf("Add = %+v, %v", m, err)
	}
}

func TestEncodeDialectACompressed(t *testing.T) {
	big := "<cib>" + strings.Repeat(`<nvpair id="x" name="y" value="z"/>`, 20000) + "</cib>"
	e := Encoder{Dialect: DialectA, MaxSize: 131072}
	if _, err := e.Encode(2, big, 0); !errors.Is(err, ErrCompression) {
		t.Fatalf("Encode without a compressor: %v, want ErrCompression", err)
	}
	if e.Compress = bzip2Command(); e.Compress == nil {
		t.Skip("no bzip2 program to compress with")
	}
	msgs, err := e.Encode(2, big, 0)
	if err != nil {
		t.Fatal(err)
	}
	h, d, err := ParseHeader(0, msgs[0])
	if err != nil || d != DialectA {
		t.Fatalf("ParseHeader: %v %v", d, err)
	}
	if h.Flags != FlagCompressed || h.SizeUncompressed != uint32(len(big)+1) || int(h.SizeCompressed) != len(msgs[0])-HeaderSize {
		t.Errorf("header %+v", h)
	}
	if !bytes.HasPrefix(msgs[0][HeaderSize:], []byte("BZh4")) {
		t.Error("payload is not bzip2 with block size 4")
	}
	m, err := new(Assembler).Add(msgs[0])
	if err != nil || string(m.XML) != big {
		t.Fatalf("round trip: %v", err)
	}
	// Just below the limit stays text.
	e.MaxSize = HeaderSize + len(big) + 2
	if msgs, _ := e.Encode(3, big, 0); len(msgs[0]) != HeaderSize+len(big)+1 {
		t.Error("message one byte under the limit was compressed")
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
			var a Assembler
			for i, msg := range msgs {
				h, d, err := ParseHeader(0, msg)
				if err != nil || d != DialectB {
					t.Fatalf("part %d: %v %v", i, d, err)
				}
				if h.ID != 9 || h.PartSize != c.sizes[i] || h.Flags != c.flags[i] || h.PartID != uint16(i) || int(h.Size) > PartBufferSize {
					t.Errorf("part %d header %+v", i, h)
				}
				m, err := a.Add(msg)
				if err != nil {
					t.Fatal(err)
				}
				if last := i == len(msgs)-1; (m != nil) != last {
					t.Fatalf("part %d: message %v", i, m != nil)
				}
				if m != nil && (string(m.XML) != xml || m.Parts != len(msgs)) {
					t.Errorf("reassembled %d bytes in %d parts, want %d in %d", len(m.XML), m.Parts, len(xml), len(msgs))
				}
			}
		})
	}
}

func TestAssemblerErrors(t *testing.T) {
	parts, _ := (&Encoder{Dialect: DialectB}).Encode(5, strings.Repeat("y", 200000), 0)
	other, _ := (&Encoder{Dialect: DialectB}).Encode(6, "<x/>", 0)
	truncated := append([]byte(nil), parts[0][:100]...)
	binary.LittleEndian.PutUint32(truncated[8:], 100)
	for _, c := range []struct {
		name string
		msgs [][]byte
	}{
		{"part without start", [][]byte{parts[1]}},
		{"single inside multipart", [][]byte{parts[0], other[0]}},
		{"short", [][]byte{parts[0][:20]}},
		{"size mismatch", [][]byte{parts[0][:1000]}},
		{"part size mismatch", [][]byte{truncated}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := Assembler{Dialect: DialectB}
			var err error
			for _, m := range c.msgs {
				if _, err = a.Add(m); err != nil {
					break
				}
			}
			if !errors.Is(err, ErrEnvelope) {
				t.Errorf("got %v, want ErrEnvelope", err)
			}
		})
	}
}

func TestDialectForVersion(t *testing.T) {
	for v, want := range map[string]Dialect{
		"2.1.5": DialectA, "2.1.4": DialectA, "3.0.0": DialectA, "Pacemaker 3.0.0": DialectA,
		"3.0.1": DialectB, "3.0.3-2": DialectB, "Pacemaker-3.1.0": DialectB, "4.0": DialectB,
	} {
		if got, err := DialectForVersion(v); got != want || err != nil {
			t.Errorf("DialectForVersion(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := DialectForVersion("x"); err == nil {
		t.Error("DialectForVersion(x) succeeded")
	}
}

// appendOne, with which Request reuses its buffer, writes what Encode writes, also over
// a buffer that held a longer message, and leaves messages that must be compressed or
// split to Encode.
func TestAppendOne(t *testing.T) {
	for _, e := range []Encoder{{Dialect: DialectA, MaxSize: 131072}, {Dialect: DialectB}} {
		buf := bytes.Repeat([]byte{0xff}, 300)
		for _, xml := range []string{strings.Repeat("y", 250), registerXML, ""} {
			want, err := e.Encode(7, xml, FlagClientResponse)
			if err != nil || len(want) != 1 {
				t.Fatalf("%v: Encode: %d messages, %v", e.Dialect, len(want), err)
			}
			var ok bool
			buf, ok = e.appendOne(buf[:0], 7, xml, FlagClientResponse)
			if !ok || !bytes.Equal(buf, want[0]) {
				t.Errorf("%v: appendOne(%d bytes) = %v\n% x\nwant\n% x", e.Dialect, len(xml), ok, buf, want[0])
			}
		}
	}
	big := strings.Repeat("z", PartBufferSize)
	for _, e := range []Encoder{{Dialect: DialectA, MaxSize: 131072}, {Dialect: DialectB}} {
		if got, ok := e.appendOne([]byte("x"), 7, big, 0); ok || string(got) != "x" {
			t.Errorf("%v: appendOne of a %d-byte text = %d bytes, %v; want it left to Encode", e.Dialect, len(big), len(got), ok)
		}
	}
}

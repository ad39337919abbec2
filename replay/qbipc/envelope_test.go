package qbipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os/exec"
	"strings"
	"testing"
)

// bzip2Command compresses with the bzip2 program, standing in for Pacemaker's
// compressor in tests; nil when the program is missing.
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

// TestAssemblerRoundTrip reads back what the Encoder writes, in every form: plain,
// compressed (by pcmk or by the bzip2 program) and split into parts.
func TestAssemblerRoundTrip(t *testing.T) {
	big := "<cib>" + strings.Repeat(`<nvpair id="x" name="y" value="z"/>`, 20000) + "</cib>"
	for _, c := range []struct {
		name  string
		enc   Encoder
		xml   string
		parts int
	}{
		{"A plain", Encoder{Dialect: DialectA, MaxSize: 131072}, registerXML, 1},
		{"A compressed", Encoder{Dialect: DialectA, MaxSize: 131072}, big, 1},
		{"A compressed by bzip2", Encoder{Dialect: DialectA, MaxSize: 131072, Compress: bzip2Command()}, big, 1},
		{"B single", Encoder{Dialect: DialectB}, registerXML, 1},
		{"B parts", Encoder{Dialect: DialectB}, big, 6},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.name, "bzip2") && c.enc.Compress == nil {
				t.Skip("no bzip2 program")
			}
			msgs, err := c.enc.Encode(3, c.xml, FlagClientResponse)
			if err != nil || len(msgs) != c.parts {
				t.Fatalf("Encode: %d messages, %v; want %d", len(msgs), err, c.parts)
			}
			if d := DetectDialect(msgs[0]); d != c.enc.Dialect {
				t.Errorf("DetectDialect = %v", d)
			}
			var a Assembler
			for i, msg := range msgs {
				m, err := a.Add(msg)
				if err != nil {
					t.Fatal(err)
				}
				if last := i == len(msgs)-1; (m != nil) != last {
					t.Fatalf("part %d: message %v", i, m != nil)
				}
				if m == nil {
					continue
				}
				if string(m.XML) != c.xml || m.Parts != c.parts || m.Header.ID != 3 || m.Header.Flags&^FlagCompressed != FlagClientResponse {
					t.Errorf("%d bytes in %d parts, header %+v", len(m.XML), m.Parts, m.Header)
				}
				if c.parts > 1 && (m.Header.PartSize != uint32(len(c.xml)+1) || int(m.Header.Size) != HeaderSize+len(c.xml)+1) {
					t.Errorf("whole header %+v", m.Header)
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
		{"new message inside multipart", [][]byte{parts[0], parts[0]}},
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
			// The assembler goes on with the next message (a new message's first
			// part stays pending, as it should).
			if c.name == "new message inside multipart" {
				return
			}
			if m, err := a.Add(other[0]); err != nil || string(m.XML) != "<x/>" {
				t.Errorf("next message: %v", err)
			}
		})
	}
}

// An encoder's size error is ErrMsgSize to qbipc's callers.
func TestEncodeError(t *testing.T) {
	big := strings.Repeat("<a x='1'/>", 1<<16) // compresses to more than 100 bytes
	_, err := (&Encoder{Dialect: DialectA, MaxSize: 100}).Encode(1, big, 0)
	if err = encodeError(err); !errors.Is(err, ErrMsgSize) {
		t.Errorf("got %v, want ErrMsgSize", err)
	}
}

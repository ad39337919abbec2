package pcmk

import (
	"encoding/binary"
	"testing"
)

// FuzzEnvelope parses arbitrary bytes as a message in each dialect mode: a
// detected dialect parses cleanly, errors name an offset inside the
// header, and a parsed header encodes back to the same bytes.
func FuzzEnvelope(f *testing.F) {
	text := append([]byte(registerXML), 0)
	for _, s := range [][]byte{
		envelopeA(1, text, uint32(len(text)), FlagClientResponse),
		envelopeA(4, []byte("BZh41AY&SY\x00\x01"), 192100, FlagCompressed|FlagServerFree),
		envelopeB(1, text, FlagClientResponse, 0),
		envelopeB(7, text, mp, 1),
		envelopeB(7, []byte{0}, mpEnd, 2),
		put32(make([]byte, 24), 8, 24),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var size int32
		if len(data) >= 12 {
			size = int32(binary.LittleEndian.Uint32(data[8:]))
		}
		detected := DetectDialect(data, size)
		for _, d := range []Dialect{DialectAuto, DialectA, DialectB} {
			env, off, err := ParseEnvelope(data, size, d)
			if err != nil {
				if off < 0 || off > EnvelopeLen {
					t.Fatalf("dialect %v: offset %d for %v", d, off, err)
				}
				if d == DialectAuto && detected != DialectAuto {
					t.Fatalf("detected %v, parse failed: %v", detected, err)
				}
				continue
			}
			if d == DialectAuto && detected != DialectAuto && env.Dialect != detected {
				t.Fatalf("detected %v, parsed %v", detected, env.Dialect)
			}
			msg := make([]byte, EnvelopeLen)
			if env.Dialect == DialectA {
				putA(msg, 0, env.Flags, env.SizeUncompressed, env.SizeCompressed)
				if string(msg[24:37]) != string(data[24:37]) {
					t.Fatalf("dialect A fields % x encode as % x", data[24:37], msg[24:37])
				}
			} else {
				putB(msg, 0, env.Flags, env.PartSize, env.PartID)
				// byte 33 is padding, which parsing ignores
				if string(msg[24:33]) != string(data[24:33]) || string(msg[34:36]) != string(data[34:36]) {
					t.Fatalf("dialect B fields % x encode as % x", data[24:36], msg[24:36])
				}
			}
		}
	})
}

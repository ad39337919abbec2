package pcmk

import (
	"encoding/binary"
	"strings"
)

// The cibadmin register request observed live (docs/protocol.md 6.2).
const registerXML = `<cib_command t="cib" cib_op="register" cib_clientname="cibadmin" cib_callopt="4096"/>`

const (
	mp    = FlagMultipart
	mpEnd = FlagMultipart | FlagMultipartEnd
)

// envelopeA is a dialect A message carrying payload; sizeCompressed is set
// to len(payload) when flags say compressed.
func envelopeA(id int32, payload []byte, sizeUncompressed uint32, flags Flags) []byte {
	msg := make([]byte, EnvelopeLen+len(payload))
	sc := uint32(0)
	if flags&FlagCompressed != 0 {
		sc = uint32(len(payload))
	}
	putA(msg, id, flags, sizeUncompressed, sc)
	copy(msg[EnvelopeLen:], payload)
	return msg
}

// envelopeB is a dialect B message carrying part.
func envelopeB(id int32, part []byte, flags Flags, partID uint16) []byte {
	msg := make([]byte, EnvelopeLen+len(part))
	putB(msg, id, flags, uint32(len(part)), partID)
	copy(msg[EnvelopeLen:], part)
	return msg
}

// put32 overwrites the 32-bit field at off of a copy of b.
func put32(b []byte, off int, v uint32) []byte {
	b = append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

// bigCIB is an XML text of about n bytes that bzip2 compresses well.
func bigCIB(n int) string {
	head, tail := `<cib-reply t="cib" cib_op="cib_query"><cib>`, `</cib></cib-reply>`
	var b strings.Builder
	b.WriteString(head)
	for i := 0; b.Len()+len(tail) < n; i++ {
		b.WriteString(`<nvpair id="n` + strings.Repeat("x", i%7) + `" name="a" value="b"/>`)
	}
	b.WriteString(tail)
	return b.String()
}

package capfile

import "encoding/binary"

// Enhanced Packet Block fields this writer sets (pcapng section 4.3); the
// other option codes are in pcapng.go.
const (
	optEPBFlags    = 2
	epbInbound     = 1 // epb_flags direction bits
	epbOutbound    = 2
	epbFixedLength = 28 // type, length, interface, timestamp (2), captured and original lengths
)

// appendEPB appends one Enhanced Packet Block on interface ifc holding the
// packet hdr followed by data, with
// the direction in epb_flags (0: none) and comment (nil: none). Packets are
// the recorder's hot path: building the block in one buffer and writing it
// once costs a fraction of going through pcapgo's per-packet options, which
// allocate; the section, interface and statistics blocks still go through
// pcapgo.
func appendEPB(b []byte, ifc uint32, tsNanos int64, hdr, data []byte, direction uint32, comment []byte) []byte {
	n := len(hdr) + len(data)
	pad := func(n int) int { return (4 - n&3) & 3 }
	opts := 0
	if direction != 0 {
		opts += 4 + 4
	}
	if comment != nil {
		opts += 4 + len(comment) + pad(len(comment))
	}
	if opts > 0 {
		opts += 4 // end of options
	}
	total := epbFixedLength + n + pad(n) + opts + 4

	le := binary.LittleEndian
	b = le.AppendUint32(b, blockEPB)
	b = le.AppendUint32(b, uint32(total))
	b = le.AppendUint32(b, ifc)
	b = le.AppendUint32(b, uint32(uint64(tsNanos)>>32))
	b = le.AppendUint32(b, uint32(tsNanos))
	b = le.AppendUint32(b, uint32(n))
	b = le.AppendUint32(b, uint32(n))
	b = append(b, hdr...)
	b = append(b, data...)
	b = append(b, make([]byte, pad(n))...)
	if comment != nil {
		b = le.AppendUint16(b, optComment)
		b = le.AppendUint16(b, uint16(len(comment)))
		b = append(b, comment...)
		b = append(b, make([]byte, pad(len(comment)))...)
	}
	if direction != 0 {
		b = le.AppendUint16(b, optEPBFlags)
		b = le.AppendUint16(b, 4)
		b = le.AppendUint32(b, direction)
	}
	if opts > 0 {
		b = le.AppendUint32(b, optEnd) // code 0, length 0
	}
	return le.AppendUint32(b, uint32(total))
}

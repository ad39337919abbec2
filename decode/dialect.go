package decode

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// Dialect is the layout of the 40-byte Pacemaker envelope (docs/protocol.md 6).
type Dialect uint8

const (
	// DialectAuto, in [Options], detects the dialect per connection from
	// the bytes. In a [Message] it means the message carried no Pacemaker
	// envelope (a corosync service, a libqb control message, or bytes that
	// could not be recognised).
	DialectAuto Dialect = iota
	// DialectA is Pacemaker 2.1.4, 2.1.5 and 3.0.0: size_uncompressed,
	// size_compressed, flags, version; large messages are bzip2-compressed.
	DialectA
	// DialectB is Pacemaker 3.0.1 and later: size, flags, version, part_id;
	// large messages are split into parts.
	DialectB
)

// String returns "A", "B", or "" for DialectAuto.
func (d Dialect) String() string {
	switch d {
	case DialectA:
		return "A"
	case DialectB:
		return "B"
	}
	return ""
}

// ParseDialect parses "auto" (or ""), "A" or "B", in either case.
func ParseDialect(s string) (Dialect, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return DialectAuto, nil
	case "a":
		return DialectA, nil
	case "b":
		return DialectB, nil
	}
	return DialectAuto, fmt.Errorf("parse dialect %q: want auto, A or B", s)
}

// DetectDialect applies the byte test of docs/protocol.md 6.4 to the first 40
// bytes of a message whose libqb size is qbSize. The two predicates are
// mutually exclusive: byte 36 is version (1) in A and padding (0) in B.
// It returns DialectAuto for anything else, such as corosync traffic.
func DetectDialect(b []byte, qbSize int32) Dialect {
	if len(b) < envelopeLen || qbSize < envelopeLen {
		return DialectAuto
	}
	payload := uint32(qbSize - envelopeLen)
	u24 := binary.LittleEndian.Uint32(b[24:])
	u28 := binary.LittleEndian.Uint32(b[28:])
	u32 := binary.LittleEndian.Uint32(b[32:])
	if b[32] == 1 && b[33] == 0 && b[36] == 0 && b[37] == 0 && b[38] == 0 && b[39] == 0 &&
		u24 == payload && Flags(u28)&^knownFlagsB == 0 {
		return DialectB
	}
	if b[36] == 1 && b[37] == 0 && b[38] == 0 && b[39] == 0 && Flags(u32)&^knownFlagsA == 0 {
		plain := u28 == 0 && u24 == payload && u32&1 == 0
		compressed := u32&1 != 0 && u28 == payload
		if plain || compressed {
			return DialectA
		}
	}
	return DialectAuto
}

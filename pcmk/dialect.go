package pcmk

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
)

// Dialect is the layout of the 40-byte Pacemaker envelope.
type Dialect uint8

const (
	// DialectAuto asks for detection from the bytes where a dialect is
	// given; where one is reported it means the message carried no
	// Pacemaker envelope (a corosync service, a libqb control message, or
	// bytes that could not be recognised).
	DialectAuto Dialect = iota
	// DialectA is Pacemaker 2.1.4, 2.1.5 and 3.0.0: size_uncompressed@24,
	// size_compressed@28, flags@32, version@36; large messages are
	// bzip2-compressed.
	DialectA
	// DialectB is Pacemaker 3.0.1 and later: size@24, flags@28, version@32,
	// part_id@34; large messages are split into parts.
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

// DialectForVersion returns the dialect of a Pacemaker version such as
// "2.1.5", "3.0.0", "3.0.3" or "Pacemaker 3.0.1".
func DialectForVersion(version string) (Dialect, error) {
	var v [3]int
	notDigit := func(r rune) bool { return r < '0' || r > '9' }
	trimmed := strings.TrimLeftFunc(version, notDigit)
	for i, f := range strings.SplitN(trimmed, ".", 3) {
		if j := strings.IndexFunc(f, notDigit); j >= 0 {
			f = f[:j]
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return DialectAuto, fmt.Errorf("parse Pacemaker version %q: %w", version, err)
		}
		v[i] = n
	}
	if v[0] > 3 || v[0] == 3 && (v[1] > 0 || v[2] >= 1) {
		return DialectB, nil
	}
	return DialectA, nil
}

// version is PCMK__IPC_VERSION, the only envelope version there is.
const version = 1

// DetectDialect tells the dialect of the first 40 bytes of a message whose
// libqb size is qbSize. The two tests exclude each other: byte 36 is the
// version (1) in A and padding (0) in B. It returns DialectAuto for
// anything else, such as corosync traffic.
func DetectDialect(b []byte, qbSize int32) Dialect {
	if len(b) < EnvelopeLen || qbSize < EnvelopeLen {
		return DialectAuto
	}
	payload := uint32(qbSize - EnvelopeLen)
	u24 := binary.LittleEndian.Uint32(b[24:])
	u28 := binary.LittleEndian.Uint32(b[28:])
	u32 := binary.LittleEndian.Uint32(b[32:])
	if b[32] == version && b[33] == 0 && b[36] == 0 && b[37] == 0 && b[38] == 0 && b[39] == 0 &&
		u24 == payload && Flags(u28)&^knownFlagsB == 0 {
		return DialectB
	}
	if b[36] == version && b[37] == 0 && b[38] == 0 && b[39] == 0 && Flags(u32)&^knownFlagsA == 0 {
		plain := u28 == 0 && u24 == payload && u32&1 == 0
		compressed := u32&1 != 0 && u28 == payload
		if plain || compressed {
			return DialectA
		}
	}
	return DialectAuto
}

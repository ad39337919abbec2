package pcmk

import "encoding/binary"

// Envelope is the Pacemaker part of the 40-byte header, bytes 24 to 39.
// Fields of the other dialect are zero.
type Envelope struct {
	Dialect Dialect
	Flags   Flags
	Version uint8

	// Dialect A: the text length including its NUL, and the bzip2 length
	// when FlagCompressed is set (else 0).
	SizeUncompressed uint32
	SizeCompressed   uint32

	// Dialect B: this part's payload length including its NUL, and the
	// part number (0 for single messages and first parts).
	PartSize uint32
	PartID   uint16
}

// PayloadLen is the number of payload bytes the envelope announces.
func (e *Envelope) PayloadLen() uint32 {
	if e.Dialect == DialectB {
		return e.PartSize
	}
	if e.Flags&FlagCompressed != 0 {
		return e.SizeCompressed
	}
	return e.SizeUncompressed
}

// ParseEnvelope reads the envelope of a message whose libqb size is qbSize
// from b, as dialect d, or detecting the dialect when d is DialectAuto.
// On error it returns the byte offset of the field at fault; the error
// wraps ErrShortHeader, ErrEnvelope, ErrSize, ErrVersion or ErrLength.
func ParseEnvelope(b []byte, qbSize int32, d Dialect) (Envelope, int, error) {
	if len(b) < EnvelopeLen {
		return Envelope{}, len(b), Fail(ErrShortHeader, "%d bytes, envelope needs %d", len(b), EnvelopeLen)
	}
	if d == DialectAuto {
		d = DetectDialect(b, qbSize)
		if d == DialectAuto {
			switch {
			case b[36] == version:
				d = DialectA // explain why it is not a valid A header
			case b[32] == version:
				d = DialectB
			default:
				return Envelope{}, 24, Fail(ErrEnvelope, "bytes 24-39 % x", b[24:40])
			}
		}
	}
	if qbSize < EnvelopeLen {
		return Envelope{}, 8, Fail(ErrSize, "libqb size %d is smaller than the %d-byte envelope", qbSize, EnvelopeLen)
	}
	payload := uint32(qbSize - EnvelopeLen)
	switch d {
	case DialectA:
		return parseA(b, payload)
	case DialectB:
		return parseB(b, payload)
	}
	return Envelope{}, 24, Fail(ErrEnvelope, "unknown dialect %d", d)
}

func parseA(b []byte, payload uint32) (Envelope, int, error) {
	e := Envelope{
		Dialect:          DialectA,
		SizeUncompressed: binary.LittleEndian.Uint32(b[24:]),
		SizeCompressed:   binary.LittleEndian.Uint32(b[28:]),
		Flags:            Flags(binary.LittleEndian.Uint32(b[32:])),
		Version:          b[36],
	}
	if e.Version != version {
		return e, 36, Fail(ErrVersion, "dialect A version %d", e.Version)
	}
	if e.Flags&FlagCompressed != 0 {
		if e.SizeCompressed != payload {
			return e, 28, Fail(ErrLength, "size_compressed %d, libqb size leaves %d payload bytes", e.SizeCompressed, payload)
		}
		return e, 0, nil
	}
	if e.SizeCompressed != 0 {
		return e, 28, Fail(ErrLength, "size_compressed %d without the compressed flag", e.SizeCompressed)
	}
	if e.SizeUncompressed != payload {
		return e, 24, Fail(ErrLength, "size_uncompressed %d, libqb size leaves %d payload bytes", e.SizeUncompressed, payload)
	}
	return e, 0, nil
}

func parseB(b []byte, payload uint32) (Envelope, int, error) {
	e := Envelope{
		Dialect:  DialectB,
		PartSize: binary.LittleEndian.Uint32(b[24:]),
		Flags:    Flags(binary.LittleEndian.Uint32(b[28:])),
		Version:  b[32],
		PartID:   binary.LittleEndian.Uint16(b[34:]),
	}
	if e.Version != version {
		return e, 32, Fail(ErrVersion, "dialect B version %d", e.Version)
	}
	if e.PartSize != payload {
		return e, 24, Fail(ErrLength, "size %d, libqb size leaves %d payload bytes", e.PartSize, payload)
	}
	return e, 0, nil
}

// Header is the whole 40-byte header of a Pacemaker message: the libqb
// response header and the envelope.
type Header struct {
	QBHeader
	Envelope
}

// ParseHeader reads the header of msg, one whole libqb message, as dialect
// d or detecting it when d is DialectAuto, and checks that the libqb size
// is len(msg). On error it returns the byte offset of the field at fault.
func ParseHeader(msg []byte, d Dialect) (Header, int, error) {
	qb, ok := ParseQBHeader(msg, EnvelopeLen)
	if !ok {
		return Header{}, len(msg), Fail(ErrShortHeader, "%d bytes, envelope needs %d", len(msg), EnvelopeLen)
	}
	h := Header{QBHeader: qb}
	if int(qb.Size) != len(msg) {
		return h, 8, Fail(ErrSize, "libqb size %d, message is %d bytes", qb.Size, len(msg))
	}
	env, off, err := ParseEnvelope(msg, qb.Size, d)
	h.Envelope = env
	return h, off, err
}

// PlainText returns the text of an uncompressed single-part payload (all
// the bytes after the envelope) without its NUL. On error it returns the
// offset of the fault in the message.
func (e *Envelope) PlainText(payload []byte) ([]byte, int, error) {
	declared := int(e.PayloadLen())
	switch {
	case declared == 0:
		return nil, 24, Fail(ErrLength, "empty payload")
	case declared != len(payload):
		return nil, 24, Fail(ErrLength, "envelope declares %d payload bytes, message has %d", declared, len(payload))
	case payload[declared-1] != 0:
		return nil, EnvelopeLen + declared - 1, Fail(ErrNUL, "last byte %#02x", payload[declared-1])
	}
	return payload[:declared-1], 0, nil
}

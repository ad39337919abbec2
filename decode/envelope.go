package decode

import (
	"encoding/binary"
)

// Header sizes (docs/protocol.md 3.1 and 6). libqb puts every member on an 8-byte
// boundary, so a 4-byte field is followed by 4 bytes of padding.
const (
	requestHeaderLen  = 16 // struct qb_ipc_request_header: id@0, size@8
	responseHeaderLen = 24 // struct qb_ipc_response_header: id@0, size@8, error@16
	envelopeLen       = 40 // pcmk__ipc_header_t: response header + 16 bytes
)

// Reserved libqb message ids (include/qb/qbipc_common.h).
const (
	qbMsgAuthenticate = -1
	qbMsgNewEventSock = -2
	qbMsgDisconnect   = -3
)

// qbHeader is the libqb layer of a message.
type qbHeader struct {
	id   int32
	size int32
	err  int32 // 24-byte header only
}

// parseQBHeader reads a libqb header of headerLen bytes (16 or 24) from b.
// It returns false if b is shorter than the header.
func parseQBHeader(b []byte, headerLen int) (qbHeader, bool) {
	if len(b) < headerLen {
		return qbHeader{}, false
	}
	h := qbHeader{
		id:   int32(binary.LittleEndian.Uint32(b[0:])),
		size: int32(binary.LittleEndian.Uint32(b[8:])),
	}
	if headerLen >= responseHeaderLen {
		h.err = int32(binary.LittleEndian.Uint32(b[16:]))
	}
	return h, true
}

// envelope is the Pacemaker part of the 40-byte header.
type envelope struct {
	dialect Dialect
	flags   Flags
	version uint8
	// Dialect A: declared text length including the NUL, and the bzip2
	// length when FlagCompressed is set.
	sizeUncompressed uint32
	sizeCompressed   uint32
	// Dialect B: payload bytes of this part including its NUL, and the part
	// number.
	size   uint32
	partID uint16
}

// payloadLen is the number of payload bytes the envelope announces.
func (e *envelope) payloadLen() uint32 {
	if e.dialect == DialectB {
		return e.size
	}
	if e.flags&FlagCompressed != 0 {
		return e.sizeCompressed
	}
	return e.sizeUncompressed
}

// parseEnvelope reads the envelope of a message whose libqb size is qbSize
// from b (at least envelopeLen bytes), as dialect d, or detecting the
// dialect when d is DialectAuto. On error it returns the byte offset of the
// field at fault.
func parseEnvelope(b []byte, qbSize int32, d Dialect) (envelope, int, error) {
	if len(b) < envelopeLen {
		return envelope{}, len(b), fail(ErrShortHeader, "%d bytes, envelope needs %d", len(b), envelopeLen)
	}
	if d == DialectAuto {
		d = DetectDialect(b, qbSize)
		if d == DialectAuto {
			switch {
			case b[36] == 1:
				d = DialectA // explain why it is not a valid A header
			case b[32] == 1:
				d = DialectB
			default:
				return envelope{}, 24, fail(ErrEnvelope, "bytes 24-39 % x", b[24:40])
			}
		}
	}
	if qbSize < envelopeLen {
		return envelope{}, 8, fail(ErrSize, "libqb size %d is smaller than the %d-byte envelope", qbSize, envelopeLen)
	}
	payload := uint32(qbSize - envelopeLen)
	if d == DialectA {
		return parseEnvelopeA(b, payload)
	}
	return parseEnvelopeB(b, payload)
}

func parseEnvelopeA(b []byte, payload uint32) (envelope, int, error) {
	e := envelope{
		dialect:          DialectA,
		sizeUncompressed: binary.LittleEndian.Uint32(b[24:]),
		sizeCompressed:   binary.LittleEndian.Uint32(b[28:]),
		flags:            Flags(binary.LittleEndian.Uint32(b[32:])),
		version:          b[36],
	}
	if e.version != 1 {
		return e, 36, fail(ErrVersion, "dialect A version %d", e.version)
	}
	if e.flags&FlagCompressed != 0 {
		if e.sizeCompressed != payload {
			return e, 28, fail(ErrLength, "size_compressed %d, libqb size leaves %d payload bytes", e.sizeCompressed, payload)
		}
		return e, 0, nil
	}
	if e.sizeCompressed != 0 {
		return e, 28, fail(ErrLength, "size_compressed %d without the compressed flag", e.sizeCompressed)
	}
	if e.sizeUncompressed != payload {
		return e, 24, fail(ErrLength, "size_uncompressed %d, libqb size leaves %d payload bytes", e.sizeUncompressed, payload)
	}
	return e, 0, nil
}

func parseEnvelopeB(b []byte, payload uint32) (envelope, int, error) {
	e := envelope{
		dialect: DialectB,
		size:    binary.LittleEndian.Uint32(b[24:]),
		flags:   Flags(binary.LittleEndian.Uint32(b[28:])),
		version: b[32],
		partID:  binary.LittleEndian.Uint16(b[34:]),
	}
	if e.version != 1 {
		return e, 32, fail(ErrVersion, "dialect B version %d", e.version)
	}
	if e.size != payload {
		return e, 24, fail(ErrLength, "size %d, libqb size leaves %d payload bytes", e.size, payload)
	}
	return e, 0, nil
}

package pcmk

import (
	"encoding/binary"
	"fmt"
	"slices"
)

const (
	// PartBufferSize is dialect B's fixed buffer size: no part is longer.
	PartBufferSize = 128 * 1024
	// MaxPartText is the most text one dialect B part carries (then a NUL).
	MaxPartText = PartBufferSize - EnvelopeLen - 1
)

// An Encoder builds the libqb messages that carry one Pacemaker message.
type Encoder struct {
	Dialect Dialect

	// MaxSize is the connection's maximum message size. In dialect A a
	// message this long or longer is compressed; 0 means no maximum.
	// Dialect B ignores it and splits at PartBufferSize, as Pacemaker
	// 3.0.1 and later do.
	MaxSize int

	// Compress bzip2-compresses a dialect A text; nil means [Compress].
	Compress func(text []byte) ([]byte, error)
}

// Encode returns the messages carrying xml with request id and flags: one
// message, or in dialect B the parts of a multipart message, all with the
// same id. A dialect A message still over MaxSize after compression gives
// an error wrapping ErrTooLarge.
func (e *Encoder) Encode(id int32, xml string, flags Flags) ([][]byte, error) {
	switch e.Dialect {
	case DialectA:
		return e.encodeA(id, xml, flags)
	case DialectB:
		return encodeB(id, xml, flags), nil
	}
	return nil, fmt.Errorf("encode: unknown dialect %d", e.Dialect)
}

func (e *Encoder) encodeA(id int32, xml string, flags Flags) ([][]byte, error) {
	if msg, ok := e.AppendOne(nil, id, xml, flags); ok {
		return [][]byte{msg}, nil
	}
	text := len(xml) + 1
	compress := e.Compress
	if compress == nil {
		compress = Compress
	}
	z, err := compress(append([]byte(xml), 0))
	if err != nil {
		return nil, fmt.Errorf("encode: compress %d bytes: %w", text, err)
	}
	if EnvelopeLen+len(z) > e.MaxSize {
		return nil, Fail(ErrTooLarge, "encode: %d bytes compressed to %d, maximum %d", text, len(z), e.MaxSize)
	}
	msg := make([]byte, EnvelopeLen+len(z))
	putA(msg, id, flags|FlagCompressed, uint32(text), uint32(len(z)))
	copy(msg[EnvelopeLen:], z)
	return [][]byte{msg}, nil
}

// AppendOne appends to dst the message that carries xml when one message
// does it as plain text, in either dialect, and reports whether it did; a
// message that must be compressed or split is left to Encode, and dst is
// returned as it was. It lets a caller reuse its buffer.
func (e *Encoder) AppendOne(dst []byte, id int32, xml string, flags Flags) ([]byte, bool) {
	text := len(xml) + 1
	switch {
	case e.Dialect == DialectA && (e.MaxSize <= 0 || EnvelopeLen+text < e.MaxSize):
	case e.Dialect == DialectB && EnvelopeLen+text < PartBufferSize:
	default:
		return dst, false
	}
	n := len(dst)
	dst = slices.Grow(dst, EnvelopeLen+text)
	dst = append(dst, make([]byte, EnvelopeLen)...)
	dst = append(dst, xml...)
	dst = append(dst, 0)
	msg := dst[n:]
	if e.Dialect == DialectA {
		putA(msg, id, flags, uint32(text), 0)
	} else {
		putB(msg, id, flags, uint32(text), 0)
	}
	return dst, true
}

// putA writes a dialect A header at the start of msg, whose zero bytes
// stay zero.
func putA(msg []byte, id int32, flags Flags, su, sc uint32) {
	le := binary.LittleEndian
	le.PutUint32(msg[0:], uint32(id))
	le.PutUint32(msg[8:], uint32(len(msg)))
	le.PutUint32(msg[24:], su)
	le.PutUint32(msg[28:], sc)
	le.PutUint32(msg[32:], uint32(flags))
	msg[36] = version
}

// putB writes a dialect B header at the start of msg, whose zero bytes
// stay zero.
func putB(msg []byte, id int32, flags Flags, partSize uint32, partID uint16) {
	le := binary.LittleEndian
	le.PutUint32(msg[0:], uint32(id))
	le.PutUint32(msg[8:], uint32(len(msg)))
	le.PutUint32(msg[24:], partSize)
	le.PutUint32(msg[28:], uint32(flags))
	msg[32] = version
	le.PutUint16(msg[34:], partID)
}

// encodeB splits xml as Pacemaker does: parts of MaxPartText characters
// plus a NUL while the rest does not fit, then a last part (possibly only
// the NUL).
func encodeB(id int32, xml string, flags Flags) [][]byte {
	var parts [][]byte
	for off, index := 0, 0; ; index++ {
		n, last := len(xml)-off, true
		if EnvelopeLen+n+1 >= PartBufferSize {
			n, last = MaxPartText, false
		}
		f := flags
		switch {
		case !last:
			f |= FlagMultipart
		case index > 0:
			f |= FlagMultipart | FlagMultipartEnd
		}
		msg := make([]byte, EnvelopeLen+n+1)
		putB(msg, id, f, uint32(n+1), uint16(index))
		copy(msg[EnvelopeLen:], xml[off:off+n])
		parts = append(parts, msg)
		off += n
		if last {
			return parts
		}
	}
}

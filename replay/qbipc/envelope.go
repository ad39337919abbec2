package qbipc

import (
	"bytes"
	"compress/bzip2"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Dialect is a version of Pacemaker's message envelope (pcmk__ipc_header_t): decode's type,
// so a capture's dialect is the one its replay speaks.
type Dialect = decode.Dialect

const (
	// DialectA is Pacemaker 2.1.x and 3.0.0: size_uncompressed and size_compressed at
	// 24 and 28, flags at 32, version at 36; large messages are bzip2-compressed.
	DialectA = decode.DialectA
	// DialectB is Pacemaker 3.0.1 and later: the part's size at 24, flags at 28,
	// version at 32, part_id at 34; large messages are split into parts.
	DialectB = decode.DialectB
)

// DialectForVersion returns the dialect of a Pacemaker version such as "2.1.5",
// "3.0.0" or "3.0.3".
func DialectForVersion(version string) (Dialect, error) {
	var v [3]int
	notDigit := func(r rune) bool { return r < '0' || r > '9' }
	trimmed := strings.TrimLeftFunc(version, notDigit) // "Pacemaker 3.0.3", "Pacemaker-2.1.5"
	for i, f := range strings.SplitN(trimmed, ".", 3) {
		j := strings.IndexFunc(f, notDigit)
		if j >= 0 {
			f = f[:j]
		}
		n, err := strconv.Atoi(f)
		if err != nil {
			return 0, fmt.Errorf("qbipc: Pacemaker version %q: %w", version, err)
		}
		v[i] = n
	}
	if v[0] > 3 || v[0] == 3 && (v[1] > 0 || v[2] >= 1) {
		return DialectB, nil
	}
	return DialectA, nil
}

// Flags are Pacemaker's enum crm_ipc_flags, carried in the envelope (decode's type).
type Flags = decode.Flags

const (
	FlagCompressed           = decode.FlagCompressed
	FlagProxied              = decode.FlagProxied
	FlagClientResponse       = decode.FlagClientResponse
	FlagServerEvent          = decode.FlagServerEvent
	FlagServerFree           = decode.FlagServerFree
	FlagProxiedRelayResponse = decode.FlagProxiedRelayResponse
	FlagMultipart            = decode.FlagMultipart
	FlagMultipartEnd         = decode.FlagMultipartEnd
)

const (
	// HeaderSize is the size of Pacemaker's envelope in both dialects.
	HeaderSize = 40
	// PartBufferSize is dialect B's fixed buffer size: no part is longer.
	PartBufferSize = 128 * 1024
	// MaxPartText is the most XML text one dialect-B part carries (then a NUL).
	MaxPartText = PartBufferSize - HeaderSize - 1

	envelopeVersion = 1 // PCMK__IPC_VERSION
)

// Header is a decoded envelope. Fields of the other dialect are zero.
type Header struct {
	ID    int32 // request id, id of the request replied to, or event id
	Size  int32 // libqb size: the whole message, this header included
	Error int32
	Flags Flags

	SizeUncompressed uint32 // dialect A: text length with its NUL
	SizeCompressed   uint32 // dialect A: bzip2 length, 0 when not compressed

	PartSize uint32 // dialect B: this part's payload length with its NUL
	PartID   uint16 // dialect B: 0 for single messages and first parts
}

// DetectDialect tells the dialect of an envelope from its bytes alone (docs/protocol.md 6.4),
// or returns 0 for anything else (such as corosync traffic).
func DetectDialect(msg []byte) Dialect {
	if len(msg) < HeaderSize {
		return 0
	}
	return decode.DetectDialect(msg, int32(binary.LittleEndian.Uint32(msg[8:])))
}

// ParseHeader decodes the envelope at the start of msg; d 0 means DetectDialect.
func ParseHeader(d Dialect, msg []byte) (Header, Dialect, error) {
	if d == 0 {
		if d = DetectDialect(msg); d == 0 {
			return Header{}, 0, fmt.Errorf("%w: no envelope of a known dialect", ErrEnvelope)
		}
	}
	if len(msg) < HeaderSize {
		return Header{}, d, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header", ErrEnvelope, len(msg), HeaderSize)
	}
	le := binary.LittleEndian
	h := Header{ID: int32(le.Uint32(msg[0:])), Size: int32(le.Uint32(msg[8:])), Error: int32(le.Uint32(msg[16:]))}
	var version byte
	switch d {
	case DialectA:
		h.SizeUncompressed, h.SizeCompressed = le.Uint32(msg[24:]), le.Uint32(msg[28:])
		h.Flags, version = Flags(le.Uint32(msg[32:])), msg[36]
	case DialectB:
		h.PartSize, h.Flags = le.Uint32(msg[24:]), Flags(le.Uint32(msg[28:]))
		version, h.PartID = msg[32], le.Uint16(msg[34:])
	default:
		return h, d, fmt.Errorf("%w: unknown dialect %v", ErrEnvelope, d)
	}
	if version > envelopeVersion {
		return h, d, fmt.Errorf("%w: envelope version %d", ErrEnvelope, version)
	}
	if int(h.Size) != len(msg) {
		return h, d, fmt.Errorf("%w: size field %d, message of %d bytes", ErrEnvelope, h.Size, len(msg))
	}
	return h, d, nil
}

// Message is a whole Pacemaker message: reassembled from its parts and decompressed.
type Message struct {
	Dialect Dialect
	// Header is the message's envelope. For a multipart message it is the first
	// part's, as Pacemaker rebuilds it: multipart flags cleared, sizes of the whole.
	Header Header
	Parts  int    // 1, or the number of parts of a multipart message
	XML    []byte // the payload text, without its NUL

	buf []byte // what RequestInto received the message into, for its next call to reuse
}

// An Encoder builds the libqb messages that carry one Pacemaker message.
type Encoder struct {
	Dialect Dialect

	// MaxSize is the connection's maximum message size (Client.MaxMsgSize). In dialect A
	// a message this long or longer is compressed; dialect B ignores it and splits at
	// PartBufferSize, as Pacemaker 3.0.1+ does.
	MaxSize int

	// Compress returns text bzip2-compressed with block size 4 (Pacemaker's setting).
	// Go's standard library cannot compress bzip2; without Compress a dialect-A message
	// that needs it fails with ErrCompression.
	Compress func(text []byte) ([]byte, error)
}

// Encode returns the messages carrying xml with request id and flags: one message, or in
// dialect B the parts of a multipart message, all with the same id.
func (e *Encoder) Encode(id int32, xml string, flags Flags) ([][]byte, error) {
	switch e.Dialect {
	case DialectA:
		return e.encodeA(id, xml, flags)
	case DialectB:
		return encodeB(id, xml, flags), nil
	}
	return nil, fmt.Errorf("qbipc: encode: unknown dialect %v", e.Dialect)
}

func (e *Encoder) encodeA(id int32, xml string, flags Flags) ([][]byte, error) {
	if msg, ok := e.appendOne(nil, id, xml, flags); ok {
		return [][]byte{msg}, nil
	}
	text := len(xml) + 1
	if e.Compress == nil {
		return nil, fmt.Errorf("encode %d-byte message for a %d-byte connection: %w", HeaderSize+text, e.MaxSize, ErrCompression)
	}
	z, err := e.Compress(append([]byte(xml), 0))
	if err != nil {
		return nil, fmt.Errorf("qbipc: compress message: %w", err)
	}
	if HeaderSize+len(z) > e.MaxSize {
		return nil, fmt.Errorf("encode: %d bytes compressed to %d, maximum %d: %w", text, len(z), e.MaxSize, ErrMsgSize)
	}
	msg := make([]byte, HeaderSize+len(z))
	putHeaderA(msg, id, flags|FlagCompressed, uint32(text), uint32(len(z)))
	copy(msg[HeaderSize:], z)
	return [][]byte{msg}, nil
}

// appendOne appends to dst the message that carries xml when one message does it as
// plain text, in either dialect, and reports whether it did; a message that must be
// compressed or split is left to Encode. Request uses it to reuse its buffer.
func (e *Encoder) appendOne(dst []byte, id int32, xml string, flags Flags) ([]byte, bool) {
	text := len(xml) + 1
	switch {
	case e.Dialect == DialectA && (e.MaxSize <= 0 || HeaderSize+text < e.MaxSize):
	case e.Dialect == DialectB && HeaderSize+text < PartBufferSize:
	default:
		return dst, false
	}
	n := len(dst)
	dst = slices.Grow(dst, HeaderSize+text)
	dst = append(dst, make([]byte, HeaderSize)...)
	dst = append(dst, xml...)
	dst = append(dst, 0)
	msg := dst[n:]
	if e.Dialect == DialectA {
		putHeaderA(msg, id, flags, uint32(text), 0)
	} else {
		putHeaderB(msg, id, flags, uint32(text), 0)
	}
	return dst, true
}

func putHeaderA(msg []byte, id int32, flags Flags, su, sc uint32) {
	le := binary.LittleEndian
	le.PutUint32(msg[0:], uint32(id))
	le.PutUint32(msg[8:], uint32(len(msg)))
	le.PutUint32(msg[24:], su)
	le.PutUint32(msg[28:], sc)
	le.PutUint32(msg[32:], uint32(flags))
	msg[36] = envelopeVersion
}

// putHeaderB writes a dialect-B envelope at the start of msg, whose zero bytes stay zero.
func putHeaderB(msg []byte, id int32, flags Flags, partSize uint32, partID uint16) {
	le := binary.LittleEndian
	le.PutUint32(msg[0:], uint32(id))
	le.PutUint32(msg[8:], uint32(len(msg)))
	le.PutUint32(msg[24:], partSize)
	le.PutUint32(msg[28:], uint32(flags))
	msg[32] = envelopeVersion
	le.PutUint16(msg[34:], partID)
}

// encodeB splits xml as pcmk__ipc_prepare_iov does: parts of MaxPartText characters
// plus a NUL while the rest does not fit, then a last part (possibly only the NUL).
func encodeB(id int32, xml string, flags Flags) [][]byte {
	var parts [][]byte
	for off, index := 0, 0; ; index++ {
		n, last := len(xml)-off, true
		if HeaderSize+n+1 >= PartBufferSize {
			n, last = MaxPartText, false
		}
		f := flags
		switch {
		case !last:
			f |= FlagMultipart
		case index > 0:
			f |= FlagMultipart | FlagMultipartEnd
		}
		msg := make([]byte, HeaderSize+n+1)
		putHeaderB(msg, id, f, uint32(n+1), uint16(index))
		copy(msg[HeaderSize:], xml[off:off+n])
		parts = append(parts, msg)
		off += n
		if last {
			return parts
		}
	}
}

// An Assembler turns the messages of one channel back into whole Pacemaker messages:
// it decompresses dialect-A payloads and joins dialect-B parts, as pcmk__ipc_msg_append
// does. Use one per channel; the zero value detects the dialect of each message.
type Assembler struct {
	Dialect Dialect

	partial *Message
}

// Add decodes msg. It returns the whole message, or nil and no error when msg is a part
// and more parts must follow. After an error the pending parts are dropped. The XML of
// a message that came in one piece uncompressed shares memory with msg.
func (a *Assembler) Add(msg []byte) (*Message, error) {
	m, whole, err := a.add(msg)
	if !whole {
		return nil, err
	}
	return &m, nil
}

// add is Add returning the message by value; whole is false while parts are missing
// and on errors.
func (a *Assembler) add(msg []byte) (m Message, whole bool, err error) {
	h, d, err := ParseHeader(a.Dialect, msg)
	if err != nil {
		a.partial = nil
		return m, false, err
	}
	payload := msg[HeaderSize:]
	if d == DialectA {
		text, err := payloadA(h, payload)
		if err != nil {
			return m, false, err
		}
		return Message{Dialect: d, Header: h, Parts: 1, XML: text}, true, nil
	}
	if int(h.PartSize) != len(payload) || h.PartSize == 0 || payload[len(payload)-1] != 0 {
		a.partial = nil
		return m, false, fmt.Errorf("%w: part size %d, %d-byte payload not ending in NUL", ErrEnvelope, h.PartSize, len(payload))
	}
	text := payload[:len(payload)-1]
	multi, end := h.Flags&FlagMultipart != 0, h.Flags&FlagMultipartEnd != 0
	p := a.partial
	switch {
	case !multi:
		a.partial = nil
		if p != nil {
			return m, false, fmt.Errorf("%w: message %d arrived while message %d had only %d parts", ErrEnvelope, h.ID, p.Header.ID, p.Parts)
		}
		return Message{Dialect: d, Header: h, Parts: 1, XML: text}, true, nil
	case h.PartID == 0 && !end:
		a.partial = &Message{Dialect: d, Header: h, Parts: 1, XML: bytes.Clone(text)}
		if p != nil {
			return m, false, fmt.Errorf("%w: message %d started while message %d had only %d parts", ErrEnvelope, h.ID, p.Header.ID, p.Parts)
		}
		return m, false, nil
	case p == nil || p.Header.ID != h.ID || int(h.PartID) != p.Parts:
		a.partial = nil
		return m, false, fmt.Errorf("%w: unexpected part %d of message %d", ErrEnvelope, h.PartID, h.ID)
	}
	p.XML = append(p.XML, text...)
	p.Parts++
	if !end {
		return m, false, nil
	}
	a.partial = nil
	// Like pcmk__ipc_msg_append: the whole message's header has no multipart flags,
	// and its size is the whole text's.
	p.Header.Flags &^= FlagMultipart | FlagMultipartEnd
	p.Header.PartSize = uint32(len(p.XML) + 1)
	p.Header.Size = int32(HeaderSize + len(p.XML) + 1)
	return *p, true, nil
}

// payloadA returns a dialect-A payload's text, decompressed.
func payloadA(h Header, payload []byte) ([]byte, error) {
	if h.Flags&FlagCompressed == 0 {
		if int(h.SizeUncompressed) != len(payload) || len(payload) == 0 || payload[len(payload)-1] != 0 {
			return nil, fmt.Errorf("%w: size_uncompressed %d, %d-byte payload not ending in NUL", ErrEnvelope, h.SizeUncompressed, len(payload))
		}
		return payload[:len(payload)-1], nil
	}
	if int(h.SizeCompressed) != len(payload) {
		return nil, fmt.Errorf("%w: size_compressed %d, %d-byte payload", ErrEnvelope, h.SizeCompressed, len(payload))
	}
	text := make([]byte, h.SizeUncompressed)
	r := bzip2.NewReader(bytes.NewReader(payload))
	if _, err := io.ReadFull(r, text); err != nil {
		return nil, fmt.Errorf("%w: decompress %d bytes: %w", ErrEnvelope, len(payload), err)
	}
	if n, _ := r.Read(make([]byte, 1)); n != 0 || len(text) == 0 || text[len(text)-1] != 0 {
		return nil, fmt.Errorf("%w: compressed text is not %d bytes ending in NUL", ErrEnvelope, h.SizeUncompressed)
	}
	return text[:len(text)-1], nil
}

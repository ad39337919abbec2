package qbipc

import (
	"errors"
	"fmt"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Dialect is a version of Pacemaker's message envelope: [pcmk.Dialect], so a
// capture's dialect is the one its replay speaks.
type Dialect = pcmk.Dialect

const (
	// DialectA is Pacemaker 2.1.x and 3.0.0; large messages are bzip2-compressed.
	DialectA = pcmk.DialectA
	// DialectB is Pacemaker 3.0.1 and later; large messages are split into parts.
	DialectB = pcmk.DialectB
)

// DialectForVersion returns the dialect of a Pacemaker version such as "2.1.5",
// "3.0.0" or "3.0.3" ([pcmk.DialectForVersion]).
func DialectForVersion(version string) (Dialect, error) { return pcmk.DialectForVersion(version) }

// Flags are Pacemaker's enum crm_ipc_flags, carried in the envelope ([pcmk.Flags]).
type Flags = pcmk.Flags

// Flag bits; see [pcmk.Flags].
const (
	FlagCompressed           = pcmk.FlagCompressed
	FlagProxied              = pcmk.FlagProxied
	FlagClientResponse       = pcmk.FlagClientResponse
	FlagServerEvent          = pcmk.FlagServerEvent
	FlagServerFree           = pcmk.FlagServerFree
	FlagProxiedRelayResponse = pcmk.FlagProxiedRelayResponse
	FlagMultipart            = pcmk.FlagMultipart
	FlagMultipartEnd         = pcmk.FlagMultipartEnd
)

const (
	// HeaderSize is the size of Pacemaker's envelope in both dialects.
	HeaderSize = pcmk.EnvelopeLen
	// PartBufferSize is dialect B's fixed buffer size: no part is longer.
	PartBufferSize = pcmk.PartBufferSize
	// MaxPartText is the most XML text one dialect-B part carries (then a NUL).
	MaxPartText = pcmk.MaxPartText
)

// Header is a decoded envelope ([pcmk.Header]): ID, Size and Error of the libqb
// layer, then the envelope's fields; those of the other dialect are zero.
type Header = pcmk.Header

// An Encoder builds the libqb messages that carry one Pacemaker message
// ([pcmk.Encoder]); without Compress it compresses with [pcmk.Compress].
type Encoder = pcmk.Encoder

// DetectDialect tells the dialect of an envelope from its bytes alone
// (docs/protocol.md 6.4), or returns 0 for anything else (such as corosync traffic).
func DetectDialect(msg []byte) Dialect {
	h, ok := pcmk.ParseQBHeader(msg, HeaderSize)
	if !ok {
		return 0
	}
	return pcmk.DetectDialect(msg, h.Size)
}

// ParseHeader decodes the envelope at the start of msg, one whole libqb message; d 0
// means DetectDialect. Errors wrap ErrEnvelope.
func ParseHeader(d Dialect, msg []byte) (Header, Dialect, error) {
	h, off, err := pcmk.ParseHeader(msg, d)
	if err != nil {
		return h, h.Dialect, fmt.Errorf("%w: byte %d: %w", ErrEnvelope, off, err)
	}
	return h, h.Dialect, nil
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

// An Assembler turns the messages of one channel back into whole Pacemaker messages:
// it decompresses dialect-A payloads and joins dialect-B parts, as Pacemaker does. Use
// one per channel; the zero value detects the dialect of each message and holds at
// most pcmk.DefaultMaxText bytes of text per message.
type Assembler struct {
	Dialect Dialect

	parts   *pcmk.Reassembler[struct{}, Header]
	inflate pcmk.Inflater
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
	if a.parts == nil {
		a.parts = pcmk.NewReassembler[struct{}, Header](0)
	}
	var key struct{}
	h, d, err := ParseHeader(a.Dialect, msg)
	if err != nil {
		a.parts.Discard(key)
		return m, false, err
	}
	payload := msg[HeaderSize:]
	if d == DialectA || h.Flags&(FlagMultipart|FlagMultipartEnd) == 0 {
		if p := a.parts.Single(key, h, h.ID); p != nil {
			return m, false, fmt.Errorf("%w: %w", ErrEnvelope, p.Err)
		}
		text, err := a.text(h, payload)
		if err != nil {
			return m, false, fmt.Errorf("%w: %w", ErrEnvelope, err)
		}
		return Message{Dialect: d, Header: h, Parts: 1, XML: text}, true, nil
	}
	// Add returns a message this part abandoned first, then this one if it ended.
	if done := a.parts.Add(key, h, h.ID, h.Envelope, payload, false, len(msg)); len(done) > 0 {
		p := done[0]
		if p.Err != nil {
			// an abandoned message, or this one broken: it is no longer pending
			return m, false, fmt.Errorf("%w: message %d: %w", ErrEnvelope, p.ID, p.Err)
		}
		// Like Pacemaker: the whole message's header is the first part's without
		// multipart flags, with the whole text's size.
		whole := p.First
		whole.Flags = p.Flags
		whole.PartSize = uint32(len(p.Text) + 1)
		whole.Size = int32(HeaderSize + len(p.Text) + 1)
		return Message{Dialect: d, Header: whole, Parts: p.Parts, XML: p.Text}, true, nil
	}
	if p := a.parts.Pending(key); p != nil && p.Err != nil {
		a.parts.Discard(key)
		return m, false, fmt.Errorf("%w: message %d: %w", ErrEnvelope, p.ID, p.Err)
	}
	return m, false, nil
}

// text returns a single message's text, decompressed.
func (a *Assembler) text(h Header, payload []byte) ([]byte, error) {
	if h.Dialect == DialectA && h.Flags&FlagCompressed != 0 {
		return a.inflate.Decompress(payload, h.SizeUncompressed, 0)
	}
	text, _, err := h.PlainText(payload)
	return text, err
}

// encodeError makes an encoder's size error one of this package's.
func encodeError(err error) error {
	if errors.Is(err, pcmk.ErrTooLarge) {
		return fmt.Errorf("%w: %w", ErrMsgSize, err)
	}
	return err
}

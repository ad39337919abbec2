package decode

import (
	"errors"
	"fmt"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Sentinel errors for the ways a message can be malformed. A [FormatError]
// wraps one of them; test with errors.Is.
// The wire-format ones are package pcmk's.
var (
	ErrShortHeader = pcmk.ErrShortHeader
	ErrSize        = pcmk.ErrSize
	ErrEnvelope    = pcmk.ErrEnvelope
	ErrVersion     = pcmk.ErrVersion
	ErrLength      = pcmk.ErrLength
	ErrNUL         = pcmk.ErrNUL
	ErrBzip2       = pcmk.ErrBzip2
	ErrTooLarge    = pcmk.ErrTooLarge
	ErrMultipart   = pcmk.ErrMultipart
	ErrXML         = errors.New("decode: malformed XML")
	ErrRecord      = errors.New("decode: unknown record kind")
)

// A FormatError reports a message that could not be decoded. Seq and
// Packet name the record where the problem was found (for a multipart
// message, the part that broke the sequence or completed it); Packet is the
// record's first packet in the capture file, counting from 1, or 0 when the
// source does not say. Offset is the byte in that record's libqb message
// where the problem lies, or -1 when no single byte is to blame. Conn and
// QBID are set for multipart errors, which concern a sequence of records.
type FormatError struct {
	Seq    uint64
	Packet int
	Offset int
	Conn   string
	QBID   int32
	Err    error // wraps one of the Err* sentinels
}

func (e *FormatError) Error() string {
	s := fmt.Sprintf("seq %d", e.Seq)
	if e.Packet > 0 {
		s = fmt.Sprintf("packet %d (seq %d)", e.Packet, e.Seq)
	}
	if e.Offset >= 0 {
		s += fmt.Sprintf(" offset %d", e.Offset)
	}
	if e.Conn != "" {
		s += fmt.Sprintf(" conn %s qb id %d", e.Conn, e.QBID)
	}
	return s + ": " + e.Err.Error()
}

func (e *FormatError) Unwrap() error { return e.Err }

// fail builds the error wrapped by a FormatError: a sentinel plus detail.
func fail(sentinel error, format string, args ...any) error {
	return pcmk.Fail(sentinel, format, args...)
}

package redact

// This file is the one place redact reads and writes the wire format: the
// libqb header, the Pacemaker envelope of both dialects and bzip2, through
// package pcmk.

import (
	"encoding/binary"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

const (
	qbRequestHeaderLen = pcmk.RequestHeaderLen
	envelopeLen        = pcmk.EnvelopeLen

	// maxInflate bounds a decompressed body, as capfile bounds a record.
	maxInflate = pcmk.DefaultMaxText
)

// envelope is what redact needs of a message's header.
type envelope struct {
	dialect pcmk.Dialect
	id      int32
	size    int // libqb size: the whole message
	flags   pcmk.Flags

	sizeUncompressed, sizeCompressed uint32 // dialect A
	partSize                         uint32 // dialect B
	partID                           uint16 // dialect B
}

// parseEnvelope reads the header of msg. ok is false when msg does not
// start with a Pacemaker envelope of a known dialect.
func parseEnvelope(msg []byte) (e envelope, ok bool) {
	if len(msg) < envelopeLen {
		return e, false
	}
	le := binary.LittleEndian
	e.id, e.size = int32(le.Uint32(msg[0:])), int(int32(le.Uint32(msg[8:])))
	e.dialect = pcmk.DetectDialect(msg, int32(e.size))
	switch e.dialect {
	case pcmk.DialectA:
		e.sizeUncompressed, e.sizeCompressed = le.Uint32(msg[24:]), le.Uint32(msg[28:])
		e.flags = pcmk.Flags(le.Uint32(msg[32:]))
	case pcmk.DialectB:
		e.partSize, e.flags = le.Uint32(msg[24:]), pcmk.Flags(le.Uint32(msg[28:]))
		e.partID = le.Uint16(msg[34:])
	default:
		return e, false
	}
	return e, true
}

func (e *envelope) compressed() bool {
	return e.dialect == pcmk.DialectA && e.flags&pcmk.FlagCompressed != 0
}

func (e *envelope) multipart() bool {
	return e.dialect == pcmk.DialectB && e.flags&(pcmk.FlagMultipart|pcmk.FlagMultipartEnd) != 0
}

func (e *envelope) lastPart() bool { return e.flags&pcmk.FlagMultipartEnd != 0 }

// textLen is the length of the plain payload with its NUL.
func (e *envelope) textLen() int {
	if e.dialect == pcmk.DialectB {
		return int(e.partSize)
	}
	return int(e.sizeUncompressed)
}

// qbID reads the libqb id of a message of at least 16 bytes.
func qbID(msg []byte) int32 { return int32(binary.LittleEndian.Uint32(msg)) }

// setCompressed rewrites a dialect-A message around a new bzip2 body: the
// libqb size and size_compressed follow it.
func setCompressed(msg, z []byte) []byte {
	out := make([]byte, envelopeLen+len(z))
	copy(out, msg[:envelopeLen])
	copy(out[envelopeLen:], z)
	binary.LittleEndian.PutUint32(out[8:], uint32(len(out)))
	binary.LittleEndian.PutUint32(out[28:], uint32(len(z)))
	return out
}

// inflate decompresses a dialect-A body that declares want bytes (text and
// NUL) and returns the text with its NUL, ready to be compressed again.
func inflate(z []byte, want uint32) ([]byte, error) {
	text, err := pcmk.Decompress(z, want, maxInflate)
	if err != nil {
		return nil, err
	}
	return append(text, 0), nil
}

// deflate compresses as Pacemaker does, with block size 4.
func deflate(text []byte) ([]byte, error) { return pcmk.Compress(text) }

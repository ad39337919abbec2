package redact

// This file is the one place redact reads and writes the wire format: the
// libqb header, the Pacemaker envelope of both dialects and bzip2. It uses
// what decode and replay have today; it moves onto one wire package when
// there is one.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dsnet/compress/bzip2"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

const (
	qbRequestHeaderLen  = 16 // libqb request header: id, size
	qbResponseHeaderLen = 24 // libqb response header: id, size, error
	envelopeLen         = 40 // Pacemaker's envelope, the libqb header included

	// maxInflate bounds a decompressed body, as capfile bounds a record.
	maxInflate = 64 << 20
)

// envelope is what redact needs of a message's header.
type envelope struct {
	dialect decode.Dialect
	id      int32
	size    int // libqb size: the whole message
	flags   decode.Flags

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
	e.dialect = decode.DetectDialect(msg, int32(e.size))
	switch e.dialect {
	case decode.DialectA:
		e.sizeUncompressed, e.sizeCompressed = le.Uint32(msg[24:]), le.Uint32(msg[28:])
		e.flags = decode.Flags(le.Uint32(msg[32:]))
	case decode.DialectB:
		e.partSize, e.flags = le.Uint32(msg[24:]), decode.Flags(le.Uint32(msg[28:]))
		e.partID = le.Uint16(msg[34:])
	default:
		return e, false
	}
	return e, true
}

func (e *envelope) compressed() bool {
	return e.dialect == decode.DialectA && e.flags&decode.FlagCompressed != 0
}

func (e *envelope) multipart() bool {
	return e.dialect == decode.DialectB && e.flags&(decode.FlagMultipart|decode.FlagMultipartEnd) != 0
}

func (e *envelope) lastPart() bool { return e.flags&decode.FlagMultipartEnd != 0 }

// textLen is the length of the plain payload with its NUL.
func (e *envelope) textLen() int {
	if e.dialect == decode.DialectB {
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
// NUL), reading at most one byte past that.
func inflate(z []byte, want uint32) ([]byte, error) {
	if want == 0 || want > maxInflate {
		return nil, fmt.Errorf("decompress: size_uncompressed %d", want)
	}
	r, err := bzip2.NewReader(bytes.NewReader(z), nil)
	if err != nil {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	buf := make([]byte, want+1)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("decompress: %w", err)
	}
	if n != int(want) {
		return nil, fmt.Errorf("decompress: %d bytes, size_uncompressed %d", n, want)
	}
	return buf[:n], nil
}

// deflate compresses as Pacemaker does, with block size 4.
func deflate(text []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := bzip2.NewWriter(&b, &bzip2.WriterConfig{Level: 4})
	if err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if _, err := w.Write(text); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("compress: %w", err)
	}
	return b.Bytes(), nil
}

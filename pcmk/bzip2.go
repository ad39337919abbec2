package pcmk

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/dsnet/compress/bzip2"
)

// DefaultMaxText is the most text one message may hold after decompression
// or reassembly when the caller names no limit.
const DefaultMaxText = 64 << 20

// An Inflater decompresses dialect A bzip2 payloads one after another,
// reusing its decoder's tables (a few MB for Pacemaker's block size) from
// one message to the next. The zero value is ready to use; an Inflater is
// not safe for concurrent use.
type Inflater struct {
	zr *bzip2.Reader
	br bytes.Reader
}

// Decompress is [Inflater.Decompress] with a decoder of its own.
func Decompress(payload []byte, sizeUncompressed uint32, limit int) ([]byte, error) {
	var z Inflater
	return z.Decompress(payload, sizeUncompressed, limit)
}

// Decompress inflates a dialect A bzip2 payload that declares
// sizeUncompressed bytes of output (text plus NUL). It never produces more
// than min(sizeUncompressed, limit)+1 bytes, so a bomb costs at most that
// much memory; limit 0 means DefaultMaxText. It checks the exact length and
// the trailing NUL, and returns the text without the NUL. Errors wrap
// ErrTooLarge, ErrBzip2, ErrLength or ErrNUL.
func (z *Inflater) Decompress(payload []byte, sizeUncompressed uint32, limit int) ([]byte, error) {
	if limit <= 0 {
		limit = DefaultMaxText
	}
	if sizeUncompressed == 0 {
		return nil, Fail(ErrLength, "size_uncompressed 0")
	}
	if int64(sizeUncompressed) > int64(limit) {
		return nil, Fail(ErrTooLarge, "size_uncompressed %d over the %d-byte limit", sizeUncompressed, limit)
	}
	want := int(sizeUncompressed)
	// Read at most one byte past the declared size (to see that the stream
	// is longer), growing towards it instead of trusting it up front: a
	// tiny crafted payload may declare the full limit.
	ceiling := want + 1
	buf := make([]byte, 0, min(ceiling, 1<<20))
	z.br.Reset(payload)
	// The decoder keeps undelivered output across Reset: only one that ran
	// its last stream to the end is reused.
	clean := false
	defer func() {
		if !clean {
			z.zr = nil
		}
	}()
	if z.zr == nil {
		z.zr, _ = bzip2.NewReader(&z.br, nil) // it never fails
	} else {
		z.zr.Reset(&z.br)
	}
	zr := z.zr
	for len(buf) < ceiling {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(2*cap(buf), ceiling))
			copy(grown, buf)
			buf = grown
		}
		n, err := zr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			clean = true
			break
		}
		if err != nil {
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, Fail(ErrBzip2, "stream ends early after %d bytes of output", len(buf))
			}
			return nil, fmt.Errorf("%w: %w", ErrBzip2, err)
		}
	}
	if len(buf) > want {
		return nil, Fail(ErrLength, "bzip2 output exceeds size_uncompressed %d", want)
	}
	if len(buf) < want {
		return nil, Fail(ErrLength, "bzip2 output is %d bytes, size_uncompressed %d", len(buf), want)
	}
	if buf[want-1] != 0 {
		return nil, Fail(ErrNUL, "decompressed text ends in %#02x", buf[want-1])
	}
	return buf[:want-1], nil
}

// Compress bzip2-compresses a dialect A payload (text and its NUL) with
// block size 4, as Pacemaker does.
func Compress(text []byte) ([]byte, error) {
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

package decode

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/dsnet/compress/bzip2"
)

// An inflater decompresses bzip2 payloads one after another, reusing its
// decoder's tables (a few MB for Pacemaker's block size) from one message
// to the next.
type inflater struct {
	zr *bzip2.Reader
	br bytes.Reader
}

// decompress is [inflater.decompress] with a decoder of its own.
func decompress(payload []byte, sizeUncompressed uint32, limit int) ([]byte, error) {
	var z inflater
	return z.decompress(payload, sizeUncompressed, limit)
}

// decompress inflates a dialect A bzip2 payload that declares
// sizeUncompressed bytes of output (text plus NUL). It never produces more
// than min(sizeUncompressed, limit)+1 bytes, so a bomb costs at most that
// much memory, and it checks the exact length and the trailing NUL. It
// returns the text without the NUL. Errors wrap ErrTooLarge, ErrBzip2,
// ErrLength or ErrNUL.
func (z *inflater) decompress(payload []byte, sizeUncompressed uint32, limit int) ([]byte, error) {
	if sizeUncompressed == 0 {
		return nil, fail(ErrLength, "size_uncompressed 0")
	}
	if int64(sizeUncompressed) > int64(limit) {
		return nil, fail(ErrTooLarge, "size_uncompressed %d over the %d-byte limit", sizeUncompressed, limit)
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
				return nil, fail(ErrBzip2, "stream ends early after %d bytes of output", len(buf))
			}
			return nil, fmt.Errorf("%w: %w", ErrBzip2, err)
		}
	}
	if len(buf) > want {
		return nil, fail(ErrLength, "bzip2 output exceeds size_uncompressed %d", want)
	}
	if len(buf) < want {
		return nil, fail(ErrLength, "bzip2 output is %d bytes, size_uncompressed %d", len(buf), want)
	}
	if buf[want-1] != 0 {
		return nil, fail(ErrNUL, "decompressed text ends in %#02x", buf[want-1])
	}
	return buf[:want-1], nil
}

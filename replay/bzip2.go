package replay

import (
	"bytes"

	"github.com/dsnet/compress/bzip2"
)

// compressBzip2 compresses a dialect-A payload too large for the connection, with
// block size 4 as Pacemaker does (Go's compress/bzip2 only decompresses).
func compressBzip2(text []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := bzip2.NewWriter(&b, &bzip2.WriterConfig{Level: 4})
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(text); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// unwritten says how many of the messages the recorder took in are not in the
// capture file after writing it failed (a full disk): the file is read back to
// its last whole block, which is exact whatever the buffering lost on the way.
func (r *recorder) unwritten() (messages, bytes uint64, err error) {
	f, err := os.Open(r.o.output)
	if err != nil {
		return 0, 0, fmt.Errorf("read back %s: %w", r.o.output, err)
	}
	defer f.Close()
	var n, b uint64
	cr, err := capfile.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err == nil {
		for {
			rec, err := cr.Next()
			if err != nil {
				var fe *capfile.FormatError
				if errors.As(err, &fe) {
					continue // the message cut by the failed write
				}
				if errors.Is(err, io.EOF) || errors.Is(err, capfile.ErrTruncated) {
					break
				}
				return 0, 0, fmt.Errorf("read back %s: %w", r.o.output, err)
			}
			if rec.Kind == capfile.KindMessage {
				n++
				b += uint64(len(rec.Data))
			}
		}
	} else if !errors.Is(err, capfile.ErrTruncated) {
		return 0, 0, fmt.Errorf("read back %s: %w", r.o.output, err)
	}
	return r.messages - min(n, r.messages), r.bytes - min(b, r.bytes), nil
}

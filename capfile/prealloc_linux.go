//go:build linux

package capfile

import (
	"os"

	"golang.org/x/sys/unix"
)

// A capture file's blocks are reserved ahead of the writes by half of what
// was written, from 1 MiB to preallocStep: a slow recording on a nearly
// full disk does not hold much it may never use.
const (
	preallocMin  = 1 << 20
	preallocStep = 32 << 20
)

// preallocFile writes a capture file whose blocks are reserved ahead of the
// writes (fallocate, keeping the size; see preallocStep): ext4 then maps blocks the file holds
// already instead of reserving a delayed allocation for every page written,
// which was about 30% of the write's CPU at a recorder's rates. The size
// the file shows is always what was written; finish gives back the blocks
// reserved past it. Where fallocate fails (another filesystem, a device, a
// full disk) the writes go on as plain writes, and say themselves whatever
// is wrong.
type preallocFile struct {
	f        *os.File
	fd       int
	written  int64
	reserved int64 // end of the blocks reserved so far
	plain    bool  // fallocate failed once: no more tries
}

func newFileOut(f *os.File) fileOut { return &preallocFile{f: f, fd: int(f.Fd())} }

func (p *preallocFile) Write(b []byte) (int, error) {
	if !p.plain && p.written+int64(len(b)) > p.reserved {
		step := min(max(p.written/2, preallocMin, int64(len(b))), preallocStep)
		if unix.Fallocate(p.fd, unix.FALLOC_FL_KEEP_SIZE, p.reserved, step) != nil {
			p.plain = true
		} else {
			p.reserved += step
		}
	}
	n, err := p.f.Write(b)
	p.written += int64(n)
	return n, err
}

// finish frees the blocks reserved past the end of what was written.
func (p *preallocFile) finish() error {
	if p.reserved > p.written {
		return p.f.Truncate(p.written)
	}
	return nil
}

package capfile

import (
	"io"
)

// source buffers the input and counts file offsets. A whole block is made
// available as one slice of the buffer, so blocks are parsed in place; the
// buffer grows to the largest block met, and only as fast as bytes arrive,
// so a forged block length cannot make it allocate more than the file holds.
type source struct {
	r    io.Reader
	buf  []byte
	pos  int   // first unconsumed byte
	end  int   // end of the bytes read
	base int64 // file offset of buf[0]
	err  error // read error, returned once the buffered bytes are used up
}

const initialBuffer = 64 << 10

func newSource(r io.Reader) *source {
	return &source{r: r, buf: make([]byte, initialBuffer)}
}

// offset returns the file offset of the next unconsumed byte.
func (s *source) offset() int64 { return s.base + int64(s.pos) }

// fileEnd returns the file offset just past the last byte read.
func (s *source) fileEnd() int64 { return s.base + int64(s.end) }

// fill makes n bytes available at the read position and returns them.
// Fewer come back only with an error: io.EOF when the input ended, or the
// reader's own error.
func (s *source) fill(n int) ([]byte, error) {
	zero := 0
	for s.end-s.pos < n {
		if s.err != nil {
			return s.buf[s.pos:s.end], s.err
		}
		if len(s.buf)-s.pos < n && s.end == len(s.buf) {
			s.makeRoom(n)
		}
		m, err := s.r.Read(s.buf[s.end:])
		s.end += m
		if err != nil {
			s.err = err
		}
		if m == 0 && err == nil {
			if zero++; zero > 100 {
				s.err = io.ErrNoProgress
			}
		}
	}
	return s.buf[s.pos : s.pos+n], nil
}

// makeRoom moves the unconsumed bytes to the front of the buffer and grows
// it when n bytes still would not fit. It grows at most to twice the bytes
// held, so the buffer stays within twice the input actually read.
func (s *source) makeRoom(n int) {
	if s.pos > 0 {
		copy(s.buf, s.buf[s.pos:s.end])
		s.base += int64(s.pos)
		s.end -= s.pos
		s.pos = 0
	}
	if s.end < len(s.buf) {
		return
	}
	size := min(2*len(s.buf), n)
	buf := make([]byte, size)
	copy(buf, s.buf[:s.end])
	s.buf = buf
}

// consume drops n bytes that fill returned.
func (s *source) consume(n int) { s.pos += n }

// discard drops n bytes without buffering them all, for blocks that are
// skipped unread. It returns the number dropped and an error when the input
// ended first.
func (s *source) discard(n int64) (int64, error) {
	var done int64
	for done < n {
		if s.pos == s.end {
			if s.err != nil {
				return done, s.err
			}
			s.base += int64(s.end)
			s.pos, s.end = 0, 0
			if _, err := s.fill(1); err != nil && s.end == 0 {
				return done, err
			}
		}
		k := int(min(int64(s.end-s.pos), n-done))
		s.pos += k
		done += int64(k)
	}
	return done, nil
}

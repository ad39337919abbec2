package main

import (
	"strings"
	"sync/atomic"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// prefetchBytes bounds each batch between the decode command's stages, so the
// memory ahead of the output stays a few MB even for captures of 5 MB messages.
const prefetchBytes = 1 << 20

// peekedSource is the capture's record stream with the first record readable in advance.
type peekedSource struct {
	r      *capfile.Reader
	offset atomic.Int64 // input read so far, for the progress line in another goroutine
	head   *capfile.Record
	err    error
	peeked bool
}

// peek returns the first record without consuming it, or nil.
func (s *peekedSource) peek() *capfile.Record {
	if !s.peeked {
		s.head, s.err = s.r.Next()
		s.offset.Store(s.r.InputOffset())
		s.peeked = true
	}
	return s.head
}

func (s *peekedSource) Next() (*capfile.Record, error) {
	if s.peeked {
		s.peeked = false
		rec, err := s.head, s.err
		s.head, s.err = nil, nil
		return rec, err
	}
	rec, err := s.r.Next()
	s.offset.Store(s.r.InputOffset())
	return rec, err
}

// parseWhen reads an RFC 3339 time or "+DURATION" (relative to the first message).
func parseWhen(s string) (time.Time, time.Duration, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	if strings.HasPrefix(s, "+") {
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, 0, err
		}
		if d == 0 {
			d = 1 // +0s: from the first message on
		}
		return time.Time{}, d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, 0, err
}

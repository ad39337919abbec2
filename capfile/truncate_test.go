package capfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// truncFile returns a file with small records around one split over three
// packets, and final statistics.
func truncFile(t testing.TB) ([]byte, []*Record) {
	recs := []*Record{
		sample(1, payload(10, 1)),
		sample(2, payload(1000, 2)),
		sample(3, payload(2*maxChunk+1000, 3)),
		sample(4, nil),
		sample(5, payload(33, 5)),
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.WriteStats(Stats{Start: time.Unix(1, 0), End: time.Unix(2, 0), Received: 5}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), recs
}

// layout walks a file this package wrote and returns the end offsets of all
// blocks, whether each ends inside a split message, and where each message
// ends.
func layout(file []byte) (ends []int, inside map[int]bool, msgEnds []int) {
	inside = map[int]bool{}
	for off := 0; off < len(file); {
		typ, n := le.Uint32(file[off:]), int(le.Uint32(file[off+4:]))
		end := off + n
		ends = append(ends, end)
		if typ == blockEPB {
			if Flags(le.Uint32(file[off+28+offFlags:]))&FlagMore != 0 {
				inside[end] = true
			} else {
				msgEnds = append(msgEnds, end)
			}
		}
		off = end
	}
	return ends, inside, msgEnds
}

// TestTruncated cuts a file at many offsets: the reader must never panic,
// must return every record that lies wholly before the cut, then io.EOF if
// the cut falls between records, or else an error wrapping ErrTruncated
// that names the cut.
func TestTruncated(t *testing.T) {
	file, recs := truncFile(t)
	ends, inside, msgEnds := layout(file)
	isEnd := map[int]bool{}
	for _, e := range ends {
		isEnd[e] = true
	}
	headerEnd := ends[1] // section header and interface description

	cuts := map[int]bool{}
	for c := 0; c < 600; c++ {
		cuts[c] = true
	}
	for c := 0; c < len(file); c += 997 {
		cuts[c] = true
	}
	for _, e := range ends {
		for _, d := range []int{-100, -28, -12, -8, -5, -4, -3, -1, 0, 1, 3, 4, 8, 12, 28, 100} {
			if c := e + d; c >= 0 && c <= len(file) {
				cuts[c] = true
			}
		}
	}

	for cut := range cuts {
		got, ferrs, err := readAll(t, file[:cut])
		if len(ferrs) > 0 {
			t.Errorf("cut at %d: format errors %v", cut, ferrs)
		}
		want := 0
		for _, e := range msgEnds {
			if e <= cut {
				want++
			}
		}
		if cut < headerEnd {
			want = 0
		}
		if len(got) != want {
			t.Errorf("cut at %d: %d records, want %d", cut, len(got), want)
		}
		for i := range min(len(got), want) {
			if d := sameRecord(got[i], recs[i]); d != "" {
				t.Errorf("cut at %d: record %d: %s", cut, i, d)
			}
		}
		clean := cut >= headerEnd && isEnd[cut] && !inside[cut]
		switch {
		case clean && err != io.EOF:
			t.Errorf("cut at %d, a record boundary: %v, want io.EOF", cut, err)
		case !clean && !errors.Is(err, ErrTruncated):
			t.Errorf("cut at %d: %v, want ErrTruncated", cut, err)
		case !clean && !strings.Contains(err.Error(), fmt.Sprintf("at byte %d", cut)):
			t.Errorf("cut at %d: %v does not name the offset", cut, err)
		}
	}
}

// TestSmallReads reads through readers that hand out few bytes at a time.
func TestSmallReads(t *testing.T) {
	file, recs := truncFile(t)
	cases := []struct {
		desc string
		r    io.Reader
	}{
		{"one byte at a time", iotest.OneByteReader(bytes.NewReader(file))},
		{"half of each request", iotest.HalfReader(bytes.NewReader(file))},
		{"error with the last bytes", iotest.DataErrReader(bytes.NewReader(file))},
	}
	for _, c := range cases {
		r, err := NewReader(c.r)
		if err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		for _, want := range recs {
			got, err := r.Next()
			if err != nil {
				t.Fatalf("%s: %v", c.desc, err)
			}
			if d := sameRecord(got, want); d != "" {
				t.Errorf("%s: seq %d: %s", c.desc, want.Seq, d)
			}
		}
		if _, err := r.Next(); err != io.EOF {
			t.Errorf("%s: %v, want io.EOF", c.desc, err)
		}
		if st, ok := r.Stats(); !ok || st.Received != 5 {
			t.Errorf("%s: stats %+v %v", c.desc, st, ok)
		}
		if r.InputOffset() != int64(len(file)) {
			t.Errorf("%s: input offset %d, want %d", c.desc, r.InputOffset(), len(file))
		}
	}
}

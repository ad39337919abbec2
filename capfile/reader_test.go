package capfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// pkt builds one packet of message seq: its flags, data offset, orig_len
// and data bytes; edit, if not nil, may then spoil the pseudo-header.
func pkt(seq uint64, flags Flags, off, origLen uint32, data []byte, edit func([]byte)) []byte {
	rec := sample(seq, nil)
	rec.OrigLen = origLen
	p := packet(rec, flags, off, data)
	if edit != nil {
		edit(p)
	}
	return p
}

// whole returns a complete one-packet message of n bytes.
func whole(seq uint64, n int) []byte {
	return pkt(seq, 0, 0, uint32(n), payload(n, byte(seq)), nil)
}

const ts0 = 1700000000_000000000

func TestReader(t *testing.T) {
	cases := []struct {
		desc string
		file func() []byte
		open string   // part of NewReader's error; empty when it must succeed
		want []string // what successive calls of Next return
	}{
		{
			desc: "ok-little-endian",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, whole(1, 20)).epb(0, ts0, whole(2, 0)).Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "seq 2 (0 bytes)", "EOF"},
		},
		{
			desc: "ok-big-endian",
			file: func() []byte {
				return newBuilder(true).start().epb(0, ts0, whole(1, 20)).epb(0, ts0, whole(2, 30)).Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "seq 2 (30 bytes)", "EOF"},
		},
		{
			desc: "ok-unknown-blocks-skipped",
			file: func() []byte {
				b := newBuilder(false).start().block(4, make([]byte, 12)).epb(0, ts0, whole(1, 20))
				return b.block(0x40000BAD, make([]byte, 100000)).epb(0, ts0, whole(2, 5)).Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "ok-two-sections",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 20))
				return b.shb(1).idb(148).epb(0, ts0, whole(2, 5)).Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "ok-sections-in-both-byte-orders",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 20))
				big := newBuilder(true).start().epb(0, ts0, whole(2, 5))
				b.Write(big.Bytes())
				return b.Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "ok-grown-pseudo-header",
			file: func() []byte {
				p := whole(1, 20)
				grown := append(append(p[:HeaderLen:HeaderLen], "newfield"...), p[HeaderLen:]...)
				le.PutUint16(grown[offHeaderLen:], HeaderLen+8)
				return newBuilder(false).start().epb(0, ts0, grown).Bytes()
			},
			want: []string{"seq 1 (20 bytes)", "EOF"},
		},
		{
			desc: "ok-simple-packet-block",
			file: func() []byte {
				p := whole(1, 21)
				body := binary.LittleEndian.AppendUint32(nil, uint32(len(p)))
				return newBuilder(false).start().block(blockSPB, append(body, p...)).Bytes()
			},
			want: []string{"seq 1 (21 bytes)", "EOF"},
		},
		{desc: "fail-empty", file: func() []byte { return nil }, open: "file truncated at byte 0"},
		{
			desc: "fail-classic-pcap",
			file: func() []byte {
				return []byte("\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x04\x00\x93\x00\x00\x00")
			},
			open: "classic pcap",
		},
		{desc: "fail-gzip", file: func() []byte { return []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00") }, open: "gzip"},
		{desc: "fail-text", file: func() []byte { return []byte("hello, world\n") }, open: "not a pcapng file"},
		{desc: "fail-short-text", file: func() []byte { return []byte("hi") }, open: "file truncated at byte 2"},
		{
			desc: "fail-ethernet-capture",
			file: func() []byte { return newBuilder(false).shb(1).idb(1).epb(0, ts0, make([]byte, 60)).Bytes() },
			open: "link type 1,",
		},
		{desc: "fail-pcapng-version-2", file: func() []byte { return newBuilder(false).shb(2).idb(147).Bytes() }, open: "pcapng version 2.0"},
		{
			desc: "fail-packet-before-interface",
			file: func() []byte { return newBuilder(false).shb(1).epb(0, ts0, whole(1, 5)).Bytes() },
			open: "packet before any interface",
		},
		{desc: "fail-no-interface", file: func() []byte { return newBuilder(false).shb(1).Bytes() }, open: "file truncated at byte 28: no interface description block"},
		{
			desc: "fail-second-interface-ethernet",
			file: func() []byte {
				return newBuilder(false).start().idb(1).epb(1, ts0, make([]byte, 60)).epb(0, ts0, whole(2, 5)).Bytes()
			},
			want: []string{"format: packet 1 at byte 76: interface 1 has link type 1", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "fail-undescribed-interface",
			file: func() []byte { return newBuilder(false).start().epb(5, ts0, whole(1, 5)).Bytes() },
			want: []string{"format: packet 1 at byte 56: interface 5 is not described", "EOF"},
		},
		{
			desc: "fail-bad-magic",
			file: func() []byte {
				bad := whole(1, 5)
				copy(bad, "XXXX")
				return newBuilder(false).start().epb(0, ts0, bad).epb(0, ts0, whole(2, 5)).Bytes()
			},
			want: []string{`format: packet 1 at byte 56: no pcmk-trace pseudo-header: starts with "XXXX"`, "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "fail-packet-shorter-than-magic",
			file: func() []byte { return newBuilder(false).start().epb(0, ts0, []byte("PC")).Bytes() },
			want: []string{"format: packet 1 at byte 56: no pcmk-trace pseudo-header", "EOF"},
		},
		{
			desc: "fail-bad-version",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 0, 5, payload(5, 0), func(p []byte) { le.PutUint16(p[offVersion:], 2) })).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: pseudo-header version 2", "EOF"},
		},
		{
			desc: "fail-header-length-short",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 0, 5, payload(5, 0), func(p []byte) { le.PutUint16(p[offHeaderLen:], 100) })).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: pseudo-header length 100, want at least 176", "EOF"},
		},
		{
			desc: "fail-header-length-past-packet",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 0, 5, payload(5, 0), func(p []byte) { le.PutUint16(p[offHeaderLen:], 400) })).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: pseudo-header length 400, but the packet has only 181 bytes", "EOF"},
		},
		{
			desc: "fail-header-cut-short",
			file: func() []byte { return newBuilder(false).start().epb(0, ts0, whole(1, 5)[:100]).Bytes() },
			want: []string{"format: packet 1 at byte 56: pseudo-header length 176, but the packet has only 100 bytes", "EOF"},
		},
		{
			desc: "fail-orig-len-too-large",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, FlagTruncated, 0, MaxMessageLen+1, payload(5, 0), nil)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 1: orig_len 67108865 exceeds", "EOF"},
		},
		{
			desc: "fail-data-past-orig-len",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 0, 5, payload(20, 0), nil)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 1: 20 data bytes at offset 0 run past orig_len 5", "EOF"},
		},
		{
			desc: "fail-short-but-not-truncated",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 0, 100, payload(20, 0), nil)).epb(0, ts0, whole(2, 5)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 1 has 20 bytes, but orig_len is 100 and it is not marked truncated", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "fail-missing-continuation",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(5, FlagMore, 0, 40, payload(20, 0), nil)).epb(0, ts0, whole(6, 7)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 5 (packets 1-1) lacks its continuation at byte 20 of 40: packet 2 at byte 284 starts message seq 6",
				"seq 6 (7 bytes)", "EOF"},
		},
		{
			desc: "fail-lost-middle-packet",
			file: func() []byte {
				return newBuilder(false).start().
					epb(0, ts0, pkt(5, FlagMore, 0, 30, payload(10, 0), nil)).
					epb(0, ts0, pkt(5, FlagCont, 20, 30, payload(10, 0), nil)).
					epb(0, ts0, whole(6, 7)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 5 (packets 1-1) lacks its continuation at byte 10 of 30: packet 2 at byte 276 continues message seq 5 at byte 20 of 30",
				"seq 6 (7 bytes)", "EOF"},
		},
		{
			desc: "fail-stray-continuation",
			file: func() []byte {
				return newBuilder(false).start().
					epb(0, ts0, pkt(9, FlagCont|FlagMore, 10, 30, payload(10, 0), nil)).
					epb(0, ts0, pkt(9, FlagCont, 20, 30, payload(10, 0), nil)).
					epb(0, ts0, whole(2, 7)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: continuation of message seq 9 at byte 10 of 30, without the packets before it", "seq 2 (7 bytes)", "EOF"},
		},
		{
			desc: "fail-start-not-at-zero",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, pkt(1, 0, 10, 30, payload(20, 0), nil)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 1 starts at byte 10 of its data", "EOF"},
		},
		{
			desc: "fail-orig-len-changes",
			file: func() []byte {
				return newBuilder(false).start().
					epb(0, ts0, pkt(5, FlagMore, 0, 40, payload(20, 0), nil)).
					epb(0, ts0, pkt(5, FlagCont, 20, 50, payload(20, 0), nil)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: message seq 5 (packets 1-1) lacks its continuation at byte 20 of 40: packet 2 at byte 284 continues message seq 5 at byte 20 of 50", "EOF"},
		},
		{
			desc: "fail-bad-packet-inside-message",
			file: func() []byte {
				return newBuilder(false).start().
					epb(0, ts0, pkt(5, FlagMore, 0, 30, payload(10, 0), nil)).
					epb(0, ts0, []byte("garbage!")).
					epb(0, ts0, pkt(5, FlagCont, 20, 30, payload(10, 0), nil)).
					epb(0, ts0, whole(6, 7)).Bytes()
			},
			want: []string{"format: packet 2 at byte 276: no pcmk-trace pseudo-header: starts with \"garb\", want \"PCMK\"; message seq 5 from packet 1 (byte 56) dropped after 10 of 30 bytes",
				"seq 6 (7 bytes)", "EOF"},
		},
		{
			desc: "fail-file-ends-inside-message",
			file: func() []byte {
				return newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, pkt(5, FlagMore, 0, 40, payload(20, 0), nil)).Bytes()
			},
			want: []string{"seq 1 (5 bytes)", "truncated: file truncated at byte 500: message seq 5 from packet 2 (byte 272) ends after 20 of 40 bytes in packet 2"},
		},
		{
			desc: "fail-file-ends-inside-block",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				return b[:len(b)-10]
			},
			want: []string{"seq 1 (5 bytes)", "truncated: file truncated at byte 478: the block at byte 272 needs 216 bytes (after packet 1)"},
		},
		{
			desc: "fail-zero-filled-tail",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5))
				b.Write(make([]byte, 4096))
				return b.Bytes()
			},
			want: []string{"seq 1 (5 bytes)", "truncated: file truncated at byte 272: zero bytes from there on"},
		},
		{
			desc: "fail-block-length-not-multiple-of-4",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[272+4:], 203)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "fatal: capfile: block at byte 272 (after packet 1): block type 0x6 has length 203"},
		},
		{
			desc: "fail-block-length-too-small",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[272+4:], 8)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "fatal: block type 0x6 has length 8"},
		},
		{
			desc: "fail-trailing-length-differs",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[len(b)-4:], 500)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "fatal: block type 0x6 has length 216 at its start and 500 at its end"},
		},
		{
			desc: "fail-block-length-huge",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[272+4:], 0xFFFFFFF0)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "fatal: block type 0x6 has length 4294967280, more than"},
		},
		{
			desc: "fail-block-length-past-end",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[272+4:], 60<<20)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "truncated: the block at byte 272 needs 62914560 bytes"},
		},
		{
			desc: "fail-unknown-block-past-end",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).block(0x40000BAD, make([]byte, 64)).Bytes()
				le.PutUint32(b[272+4:], 1<<30)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "truncated: file truncated at byte 348"},
		},
		{
			desc: "fail-captured-length-past-block",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).epb(0, ts0, whole(2, 5)).Bytes()
				le.PutUint32(b[56+20:], 1000)
				return b
			},
			want: []string{"format: packet 1 at byte 56: captured length 1000 exceeds the 184 bytes of its block", "seq 2 (5 bytes)", "EOF"},
		},
		{
			desc: "fail-bad-byte-order-magic",
			file: func() []byte {
				b := newBuilder(false).start().epb(0, ts0, whole(1, 5)).shb(1).Bytes()
				le.PutUint32(b[272+8:], 0x12345678)
				return b
			},
			want: []string{"seq 1 (5 bytes)", "fatal: section header with byte-order magic 0x12345678"},
		},
		{
			desc: "fail-bad-timestamp-resolution",
			file: func() []byte {
				b := newBuilder(false)
				return b.shb(1).idb(147, b.opt(optTSResol, []byte{80})).epb(0, ts0, whole(1, 5)).Bytes()
			},
			want: []string{"format: packet 1 at byte 56: interface 0: timestamp resolution 0x50 is out of range", "EOF"},
		},
	}
	for _, c := range cases {
		file := c.file()
		r, err := NewReader(bytes.NewReader(file))
		if c.open != "" {
			if err == nil || !strings.Contains(err.Error(), c.open) {
				t.Errorf("%s: NewReader: %v, want an error containing %q", c.desc, err, c.open)
			}
			if strings.Contains(c.open, "truncated") != errors.Is(err, ErrTruncated) {
				t.Errorf("%s: NewReader: errors.Is(%v, ErrTruncated) is wrong", c.desc, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: NewReader: %v", c.desc, err)
			continue
		}
		var last error
		for i, want := range c.want {
			got, err := outcome(r, file)
			if !matches(got, want) {
				t.Errorf("%s: call %d: %s\n want %s", c.desc, i+1, got, want)
			}
			last = err
		}
		// Final errors stick.
		if _, err := r.Next(); err != last {
			t.Errorf("%s: after %v, Next returned %v", c.desc, last, err)
		}
	}
}

// outcome describes what one call of Next returned.
func outcome(r *Reader, file []byte) (string, error) {
	rec, err := r.Next()
	var fe *FormatError
	switch {
	case err == nil:
		return fmt.Sprintf("seq %d (%d bytes)", rec.Seq, len(rec.Data)), nil
	case err == io.EOF:
		return "EOF", err
	case errors.As(err, &fe):
		// The offset must point at the packet's block.
		if fe.Packet > 0 && (fe.Offset+4 > int64(len(file)) || le.Uint32(file[fe.Offset:]) != blockEPB) {
			return fmt.Sprintf("format error at byte %d, which starts no packet block: %v", fe.Offset, err), nil
		}
		return "format: " + err.Error(), nil
	case errors.Is(err, ErrTruncated):
		return "truncated: " + err.Error(), err
	default:
		return "fatal: " + err.Error(), err
	}
}

// matches reports whether got is of want's kind and contains its text.
func matches(got, want string) bool {
	kind, text, _ := strings.Cut(want, ": ")
	if text == "" {
		return got == want
	}
	return strings.HasPrefix(got, kind+": ") && strings.Contains(got, text)
}

func TestTimestampResolution(t *testing.T) {
	cases := []struct {
		desc string
		f    iface
		ts   uint64
		want time.Time
	}{
		{"nanoseconds", iface{res: 9}, 1700000000_123456789, time.Unix(1700000000, 123456789)},
		{"microseconds (the default)", iface{res: 6}, 1700000000_123456, time.Unix(1700000000, 123456000)},
		{"seconds", iface{res: 0}, 1700000000, time.Unix(1700000000, 0)},
		{"picoseconds", iface{res: 12}, 1700000_123456789_012, time.Unix(1700000, 123456789)},
		{"2^-10 seconds", iface{res: 0x80 | 10}, 1700000000<<10 | 512, time.Unix(1700000000, 500000000)},
		{"2^-63 seconds", iface{res: 0x80 | 63}, 1<<62 | 1<<61, time.Unix(0, 750000000)},
		{"with an offset", iface{res: 9, tsoff: 100}, 5, time.Unix(100, 5)},
		{"zero", iface{res: 9}, 0, time.Time{}},
	}
	for _, c := range cases {
		if got := c.f.time(c.ts); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.desc, got, c.want)
		}
	}
}

// TestTimeAfterReading checks the record time against what was written,
// through a big-endian section too.
func TestTimeAfterReading(t *testing.T) {
	for _, big := range []bool{false, true} {
		b := newBuilder(big).start().epb(0, 1700000000_987654321, whole(1, 5))
		r, err := NewReader(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if want := time.Unix(1700000000, 987654321); !rec.Time.Equal(want) {
			t.Errorf("big endian %v: time %v, want %v", big, rec.Time, want)
		}
	}
}

// TestReaderIOError checks an error of the underlying reader is final and
// named as such.
func TestReaderIOError(t *testing.T) {
	file := writeFile(t, sample(1, payload(10, 1)), sample(2, payload(100000, 2)))
	boom := errors.New("boom")
	r, err := NewReader(io.MultiReader(bytes.NewReader(file[:1000]), errReader{boom}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) || errors.Is(err, ErrTruncated) {
		t.Fatalf("got %v, want the reader's error", err)
	}
	if _, err := r.Next(); !errors.Is(err, boom) {
		t.Fatalf("second call: %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

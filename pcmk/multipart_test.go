package pcmk

import (
	"errors"
	"strings"
	"testing"
)

// step is one message given to a Reassembler in a test.
type step struct {
	key     string
	id      int32
	flags   Flags // without multipart flags: a single message
	partID  uint16
	text    string
	noNUL   bool
	cut     bool // truncated: the last byte is missing
	wantEnd []string
}

// part returns the envelope and the payload (as captured) of s.
func (s step) part() (Envelope, []byte) {
	payload := []byte(s.text)
	if !s.noNUL {
		payload = append(payload, 0)
	}
	env := Envelope{Dialect: DialectB, Flags: s.flags, Version: 1, PartSize: uint32(len(payload)), PartID: s.partID}
	if s.cut {
		payload = payload[:len(payload)-1]
	}
	return env, payload
}

// run feeds steps to r, tagging each with its index, and returns what
// ended, described as "key:id:text", "key:id!tag@offset: error" or
// "key:id~text" (truncated).
func run(t *testing.T, r *Reassembler[string, int], steps []step) {
	t.Helper()
	for i, s := range steps {
		env, payload := s.part()
		var done []*Partial[string, int]
		if s.flags&(FlagMultipart|FlagMultipartEnd) == 0 {
			if p := r.Single(s.key, i, s.id); p != nil {
				done = append(done, p)
			}
		} else {
			done = r.Add(s.key, i, s.id, env, payload, s.cut, EnvelopeLen+len(payload))
		}
		got := describe(done)
		if strings.Join(got, "; ") != strings.Join(s.wantEnd, "; ") {
			t.Errorf("step %d: ended\n%q\nwant\n%q", i, got, s.wantEnd)
		}
	}
}

func describe(done []*Partial[string, int]) []string {
	var out []string
	for _, p := range done {
		d := p.Key + ":" + itoa(int(p.ID))
		switch {
		case p.Err != nil:
			d += "!" + itoa(p.ErrTag) + "@" + itoa(p.ErrOffset) + ": " + strings.TrimPrefix(p.Err.Error(), "pcmk: ")
		case p.Truncated:
			d += "~" + string(p.Text)
		default:
			d += ":" + string(p.Text)
		}
		out = append(out, d)
	}
	return out
}

func itoa(i int) string {
	if i < 0 {
		return "-" + itoa(-i)
	}
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

func TestReassembler(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		steps []step
	}{
		{"three parts", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 1, flags: mp, partID: 1, text: "x"},
			{key: "c", id: 1, flags: mpEnd, partID: 2, text: "</a>", wantEnd: []string{"c:1:<a>x</a>"}},
		}},
		{"keys interleave", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "d", id: 1, flags: mp, text: "<b>"},
			{key: "d", id: 1, flags: mpEnd, partID: 1, text: "</b>", wantEnd: []string{"d:1:<b></b>"}},
			{key: "c", id: 1, flags: mpEnd, partID: 1, text: "</a>", wantEnd: []string{"c:1:<a></a>"}},
		}},
		{"a new message abandons the old", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 2, flags: mp, text: "<b>", wantEnd: []string{"c:1!1@-1: broken multipart sequence: part 1 missing: qb id 2 part 0 arrived"}},
			{key: "c", id: 2, flags: mpEnd, partID: 1, text: "</b>", wantEnd: []string{"c:2:<b></b>"}},
		}},
		{"a single message abandons a multipart one", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 2, wantEnd: []string{"c:1!1@-1: broken multipart sequence: part 1 missing: single message qb id 2 arrived"}},
		}},
		{"part 0 missing", []step{
			{key: "c", id: 1, flags: mp, partID: 1, text: "x"},
			{key: "c", id: 1, flags: mpEnd, partID: 2, text: "y", wantEnd: []string{"c:1!0@34: broken multipart sequence: part 0 missing: part 1 arrived first"}},
		}},
		{"duplicate", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 1, flags: mp, text: "<a>", wantEnd: []string{"c:1!1@-1: broken multipart sequence: part 1 missing: qb id 1 part 0 arrived"}},
			{key: "c", id: 1, flags: mp, text: "<a>", partID: 1},
			{key: "c", id: 1, flags: mpEnd, text: "<a>", partID: 1, wantEnd: []string{"c:1!3@34: broken multipart sequence: part 1 duplicated"}},
		}},
		{"gap", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 1, flags: mpEnd, partID: 2, text: "</a>", wantEnd: []string{"c:1!1@34: broken multipart sequence: part 1 missing: part 2 arrived"}},
		}},
		{"multipart_end alone", []step{
			{key: "c", id: 1, flags: FlagMultipartEnd, partID: 1, text: "x", wantEnd: []string{"c:1!0@28: broken multipart sequence: multipart_end without multipart"}},
		}},
		{"final part numbered 0", []step{
			{key: "c", id: 1, flags: mpEnd, text: "x", wantEnd: []string{"c:1!0@34: broken multipart sequence: final part has part id 0"}},
		}},
		{"no NUL", []step{
			{key: "c", id: 1, flags: mp, text: "<a>", noNUL: true},
			{key: "c", id: 1, flags: mpEnd, partID: 1, text: "</a>", wantEnd: []string{"c:1!0@42: broken multipart sequence: part 0 does not end in NUL"}},
		}},
		{"truncated part keeps what came", []step{
			{key: "c", id: 1, flags: mp, text: "<a>"},
			{key: "c", id: 1, flags: mp, partID: 1, text: "xyz", cut: true},
			{key: "c", id: 1, flags: mpEnd, partID: 2, text: "</a>", wantEnd: []string{"c:1~<a>xyz"}},
		}},
		{"over the limit", []step{
			{key: "c", id: 1, flags: mp, text: strings.Repeat("x", 10)},
			{key: "c", id: 1, flags: mpEnd, partID: 1, text: strings.Repeat("y", 7), wantEnd: []string{"c:1!1@-1: message exceeds size limit: multipart text over the 16-byte limit"}},
		}},
		{"over the budget", []step{
			{key: "c", id: 1, flags: mp, text: strings.Repeat("x", 16)},
			{key: "d", id: 1, flags: mp, text: strings.Repeat("x", 16)},
			{key: "e", id: 1, flags: mp, text: "z"},
			{key: "e", id: 1, flags: mpEnd, partID: 1, text: "z", wantEnd: []string{"e:1!2@-1: message exceeds size limit: multipart messages in flight over 32 bytes"}},
		}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			run(t, NewReassembler[string, int](16), tc.steps)
		})
	}
}

func TestReassemblerDrop(t *testing.T) {
	r := NewReassembler[string, int](0)
	run(t, r, []step{
		{key: "d", id: 1, flags: mp, text: "<b>"},
		{key: "c", id: 1, flags: mp, text: "<a>"},
		{key: "e", id: 1, flags: mp, text: "<c>"},
	})
	got := describe(r.Drop(func(k string) bool { return k != "e" }, "disconnected"))
	want := []string{
		"d:1!0@-1: broken multipart sequence: final part missing: disconnected after part 0",
		"c:1!1@-1: broken multipart sequence: final part missing: disconnected after part 0",
	}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("dropped\n%q\nwant\n%q", got, want)
	}
	if n, held := r.Held(); n != 1 || held != 3 {
		t.Errorf("held %d messages, %d bytes; want 1, 3", n, held)
	}
	if p := r.Pending("e"); p == nil || p.First != 2 || p.Last != 2 {
		t.Errorf("pending %+v", p)
	}
	if p := r.Discard("e"); p == nil || string(p.Text) != "<c>" {
		t.Errorf("discarded %+v", p)
	}
	if n, held := r.Held(); n != 0 || held != 0 {
		t.Errorf("held %d messages, %d bytes after Discard", n, held)
	}
}

// multipartProgram turns bytes into steps: per step, one byte selects key,
// multipart flags, whether the NUL is missing and whether the part is cut,
// one the part id, one the qb id, one the text length.
func multipartProgram(data []byte) []step {
	var steps []step
	for len(data) >= 4 {
		sel, k, id, n := data[0], data[1]%8, int32(data[2]%4), int(data[3]%32)
		data = data[4:]
		n = min(n, len(data))
		steps = append(steps, step{
			key: string(rune('a' + sel&1)), id: id, partID: uint16(k),
			flags: []Flags{0, mp, mpEnd, FlagMultipartEnd}[sel>>1&3],
			text:  string(data[:n]), noNUL: sel&0x80 != 0, cut: sel&0x20 != 0 && n > 0,
		})
		data = data[n:]
	}
	return steps
}

// FuzzMultipart runs arbitrary part sequences through a Reassembler: every
// part ends up in exactly one message, no text exceeds the limit, and
// nothing is held once everything is dropped.
func FuzzMultipart(f *testing.F) {
	f.Add([]byte("\x02\x00\x01\x02<a\x04\x01\x01\x02/>"))
	f.Add([]byte("\x02\x00\x01\x02<a\x03\x00\x01\x02<b\x04\x01\x01\x02/>\x05\x01\x01\x02/>"))
	f.Add([]byte("\x02\x00\x01\x02<a\x02\x01\x01\x01 \x02\x01\x01\x01 \x04\x02\x01\x02/>"))
	f.Add([]byte("\x04\x03\x01\x02/>\x82\x00\x01\x02<a\x22\x00\x02\x03<a/"))
	f.Fuzz(func(t *testing.T, data []byte) {
		const limit = 64
		r := NewReassembler[string, int](limit)
		parts, inMessages := 0, 0
		count := func(done []*Partial[string, int]) {
			for _, p := range done {
				inMessages += p.Parts
				if len(p.Text) > limit {
					t.Fatalf("%d bytes of text over the %d limit", len(p.Text), limit)
				}
				if p.Err != nil && !errors.Is(p.Err, ErrMultipart) && !errors.Is(p.Err, ErrTooLarge) {
					t.Fatalf("error %v", p.Err)
				}
			}
		}
		for i, s := range multipartProgram(data) {
			env, payload := s.part()
			if s.flags == 0 {
				if p := r.Single(s.key, i, s.id); p != nil {
					count([]*Partial[string, int]{p})
				}
				continue
			}
			parts++
			count(r.Add(s.key, i, s.id, env, payload, s.cut, len(payload)))
		}
		count(r.Drop(nil, "end"))
		if inMessages != parts {
			t.Fatalf("%d parts in messages for %d parts", inMessages, parts)
		}
		if n, held := r.Held(); n != 0 || held != 0 {
			t.Fatalf("%d messages, %d bytes held after Drop", n, held)
		}
	})
}

package pcmk

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
)

// compressed returns text and its NUL compressed, failing t on error.
func compressed(t testing.TB, text []byte) []byte {
	t.Helper()
	z, err := Compress(text)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func TestDecompress(t *testing.T) {
	text := bigCIB(192100)
	reply := compressed(t, append([]byte(text), 0))
	bomb := compressed(t, make([]byte, 8<<20)) // 8 MB of NUL bytes
	noNUL := compressed(t, []byte("<a/>"))
	su := uint32(len(text) + 1)
	for _, tc := range []struct {
		desc  string
		blob  []byte
		su    uint32
		limit int
		err   error
	}{
		{"CIB reply comes back to its declared size", reply, su, 64 << 20, nil},
		{"limit 0 is the default", reply, su, 0, nil},
		{"declared size over the limit", reply, su, 1000, ErrTooLarge},
		{"declared size zero", reply, 0, 64 << 20, ErrLength},
		{"longer than declared", reply, su - 1, 64 << 20, ErrLength},
		{"shorter than declared", reply, su + 1, 64 << 20, ErrLength},
		{"bomb stops one byte past the declared size", bomb, 1 << 20, 64 << 20, ErrLength},
		{"no NUL", noNUL, 4, 64 << 20, ErrNUL},
		{"not bzip2", []byte("<cib/>"), 7, 64 << 20, ErrBzip2},
		{"empty", nil, 7, 64 << 20, ErrBzip2},
		{"cut short", reply[:100], su, 64 << 20, ErrBzip2},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, err := Decompress(tc.blob, tc.su, tc.limit)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && string(got) != text {
				t.Errorf("%d bytes, want %d", len(got), len(text))
			}
		})
	}
}

// One Inflater serves a whole capture: whatever a bad message left in the
// decoder (output past the declared size, a cut stream, garbage) must not
// leak into the next message.
func TestInflaterAfterFailures(t *testing.T) {
	text := bigCIB(192100)
	reply := compressed(t, append([]byte(text), 0))
	bomb := compressed(t, make([]byte, 8<<20))
	su := uint32(len(text) + 1)
	var z Inflater
	for _, bad := range []struct {
		blob []byte
		su   uint32
	}{
		{reply, su - 1},       // longer than declared: stops early
		{bomb, 1 << 20},       // stops one byte past the declared size
		{reply[:100], su},     // cut short
		{[]byte("<cib/>"), 7}, // not bzip2
		{reply, su + 1},       // shorter than declared
	} {
		if _, err := z.Decompress(bad.blob, bad.su, 64<<20); err == nil {
			t.Fatal("a bad message decompressed")
		}
		got, err := z.Decompress(reply, su, 64<<20)
		if err != nil || string(got) != text {
			t.Fatalf("the next good message: %d bytes, %v", len(got), err)
		}
	}
}

// FuzzBzip2 inflates arbitrary bytes against a declared size. Its corpus
// in testdata/fuzz holds real bzip2 -4 output of a CIB reply.
func FuzzBzip2(f *testing.F) {
	f.Add([]byte("BZh41AY&SY"), uint32(100))
	f.Add([]byte("BZh9"), uint32(1))
	if z, err := Compress([]byte("<a/>")); err == nil {
		f.Add(z, uint32(4))
		f.Add(z, uint32(5))
	}
	if z, err := Compress(make([]byte, 1<<20)); err == nil {
		f.Add(z, uint32(1000))
	}
	f.Fuzz(func(t *testing.T, blob []byte, su uint32) {
		text, err := Decompress(blob, su, 1<<16)
		if err == nil && len(text) != int(su)-1 {
			t.Fatalf("%d bytes for a declared %d", len(text), su)
		}
		if err != nil && text != nil {
			t.Fatal("text with an error")
		}
	})
}

// Seed 0 of FuzzBzip2's corpus is a CIB reply compressed by the bzip2
// program (bzip2 -4, as Pacemaker compresses): Decompress reads it.
func TestBzip2Corpus(t *testing.T) {
	b, err := os.ReadFile("testdata/fuzz/FuzzBzip2/seed-00")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines in the corpus file", len(lines))
	}
	blob, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(lines[1], "[]byte("), ")"))
	if err != nil {
		t.Fatal(err)
	}
	su, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(lines[2], "uint32("), ")"), 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	text, err := Decompress([]byte(blob), uint32(su), 0)
	if err != nil || !bytes.HasPrefix(text, []byte("<")) || len(text) != int(su)-1 {
		t.Fatalf("%d bytes, %v", len(text), err)
	}
}

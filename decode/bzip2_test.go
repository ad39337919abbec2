package decode

import (
	"errors"
	"testing"
)

func TestDecompress(t *testing.T) {
	reply := loadFixture(t, fixtureReply)
	bomb := readTestdata(t, fixtureBomb)
	su := uint32(len(reply.text) + 1)
	for _, tc := range []struct {
		desc  string
		blob  []byte
		su    uint32
		limit int
		err   error
	}{
		{"CIB reply comes back to its declared size", reply.blob, su, 64 << 20, nil},
		{"declared size over the limit", reply.blob, su, 1000, ErrTooLarge},
		{"declared size zero", reply.blob, 0, 64 << 20, ErrLength},
		{"longer than declared", reply.blob, su - 1, 64 << 20, ErrLength},
		{"shorter than declared", reply.blob, su + 1, 64 << 20, ErrLength},
		{"bomb stops one byte past the declared size", bomb, 1 << 20, 64 << 20, ErrLength},
		{"not bzip2", []byte("<cib/>"), 7, 64 << 20, ErrBzip2},
		{"empty", nil, 7, 64 << 20, ErrBzip2},
		{"cut short", reply.blob[:100], su, 64 << 20, ErrBzip2},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			text, err := decompress(tc.blob, tc.su, tc.limit)
			if !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if err == nil && string(text) != reply.text {
				t.Errorf("%d bytes, want %d", len(text), len(reply.text))
			}
		})
	}
}

// One inflater serves a whole capture: whatever a bad message left in the
// decoder (output past the declared size, a cut stream, garbage) must not
// leak into the next message.
func TestInflaterAfterFailures(t *testing.T) {
	reply := loadFixture(t, fixtureReply)
	bomb := readTestdata(t, fixtureBomb)
	su := uint32(len(reply.text) + 1)
	var z inflater
	for _, bad := range []struct {
		blob []byte
		su   uint32
	}{
		{reply.blob, su - 1},   // longer than declared: stops early
		{bomb, 1 << 20},        // stops one byte past the declared size
		{reply.blob[:100], su}, // cut short
		{[]byte("<cib/>"), 7},  // not bzip2
		{reply.blob, su + 1},   // shorter than declared
	} {
		if _, err := z.decompress(bad.blob, bad.su, 64<<20); err == nil {
			t.Fatal("a bad message decompressed")
		}
		text, err := z.decompress(reply.blob, su, 64<<20)
		if err != nil || string(text) != reply.text {
			t.Fatalf("the next good message: %d bytes, %v", len(text), err)
		}
	}
}

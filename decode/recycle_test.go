package decode

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// TestRecycle decodes every real capture twice into JSON with the XML, once
// keeping every message and once with Options.Recycle, releasing each
// message once it is written and filtering some out (the Reader releases
// those), so that later records and messages are filled in the memory of
// earlier ones: the output must not change. Messages are written a few
// behind the reading, as the command's pipeline does, so that a record
// recycled too early is overwritten before its message is written.
func TestRecycle(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(captureDir, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skipf("no captures in %s", captureDir)
	}
	for _, path := range paths {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".pcapng"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []Filter{{}, {Channels: []capfile.Channel{capfile.ChannelEvent}}} {
				kept, msgs := decodeJSON(t, data, Options{Filter: f}, false)
				recycled, _ := decodeJSON(t, data, Options{Filter: f, Recycle: true}, true)
				if !bytes.Equal(kept, recycled) {
					t.Fatalf("filter %+v: recycled output differs:\n%s\nwant\n%s", f, firstDiff(recycled, kept), firstDiff(kept, recycled))
				}
				if msgs == 0 {
					t.Fatalf("filter %+v: no messages", f)
				}
			}
		})
	}
}

// decodeJSON decodes a capture held in memory into JSON lines with the XML,
// releasing each message after it is written when release is set.
func decodeJSON(t *testing.T, data []byte, opts Options, release bool) ([]byte, int) {
	t.Helper()
	cr, err := capfile.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	jf := NewJSONFormatter(&out)
	r := NewReader(cr, opts)
	n := 0
	var held []*Message
	write := func(keep int) {
		for len(held) > keep {
			jf.Format(held[0])
			if release {
				held[0].Release()
			}
			held = held[1:]
		}
	}
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		held = append(held, m)
		write(8)
	}
	write(0)
	jf.Close()
	return out.Bytes(), n
}

// firstDiff returns the line of a where a and b first differ.
func firstDiff(a, b []byte) []byte {
	al, bl := bytes.Split(a, []byte("\n")), bytes.Split(b, []byte("\n"))
	for i := range al {
		if i >= len(bl) || !bytes.Equal(al[i], bl[i]) {
			return al[i]
		}
	}
	return nil
}

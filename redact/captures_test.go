package redact

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// readCapture returns the records of a capture file.
func readCapture(t testing.TB, b []byte) []*capfile.Record {
	t.Helper()
	cr, err := capfile.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var recs []*capfile.Record
	for {
		rec, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
}

// summary is what redaction must not change in a decoded capture.
type summary struct {
	kind         decode.Kind
	op, root     string
	role         decode.Role
	pairedSeq    uint64
	parts, bytes int
	compressed   bool
}

func summarise(t *testing.T, recs []*capfile.Record) ([]summary, int) {
	t.Helper()
	var out []summary
	errs := 0
	r := decode.NewReader(&sliceSource{recs: recs}, decode.Options{})
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out, errs
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Err != nil {
			errs++
		}
		s := summary{kind: m.Kind, op: m.Op, root: m.Root, role: m.Role, parts: m.Parts, bytes: len(m.XML), compressed: m.Compressed}
		if m.ReplyTo != nil {
			s.pairedSeq = m.ReplyTo.Seq
		}
		out = append(out, s)
	}
}

// TestCaptures redacts every capture in testdata/captures with a literal
// value that occurs in each (the node name) and checks that decoding the
// result gives the same messages, operations and pairs, without errors.
func TestCaptures(t *testing.T) {
	files, _ := filepath.Glob("../testdata/captures/*.pcapng")
	if len(files) == 0 {
		t.Fatal("no captures")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			recs := readCapture(t, b)
			before, errsBefore := summarise(t, readCapture(t, b))
			r, err := New(Options{Rules: Rules{Values: []string{"node1"}, Names: []string{"^crm_feature_set$"}}})
			if err != nil {
				t.Fatal(err)
			}
			out := redactAll(t, r, recs)
			after, errsAfter := summarise(t, out)
			if errsAfter != errsBefore {
				t.Errorf("%d decode errors, %d before", errsAfter, errsBefore)
			}
			if len(after) != len(before) {
				t.Fatalf("%d messages, %d before", len(after), len(before))
			}
			for i := range before {
				if before[i] != after[i] {
					t.Errorf("message %d: %+v, before %+v", i, after[i], before[i])
				}
			}
			s := r.Stats()
			if s.Values == 0 || s.Changed == 0 {
				t.Errorf("nothing redacted: %+v", s)
			}
			for _, rec := range out {
				if bytes.Contains(rec.Data, []byte("node1")) {
					i := bytes.Index(rec.Data, []byte("node1"))
					t.Fatalf("record %d still holds node1: %q", rec.Seq, rec.Data[max(0, i-150):i+5])
				}
			}
			t.Logf("%+v", s)
		})
	}
}

// BenchmarkCapture redacts the largest capture (multipart) and the
// compressed one; MB/s counts the capture's record bytes.
func BenchmarkCapture(b *testing.B) {
	for _, name := range []string{"sid-big-cib", "bookworm-big-cib", "bookworm-workload"} {
		b.Run(name, func(b *testing.B) {
			raw, err := os.ReadFile("../testdata/captures/" + name + ".pcapng")
			if err != nil {
				b.Fatal(err)
			}
			recs := readCapture(b, raw)
			n := 0
			for _, rec := range recs {
				n += len(rec.Data)
			}
			b.SetBytes(int64(n))
			for b.Loop() {
				r, _ := New(Options{})
				for _, rec := range recs {
					c := *rec
					c.Data = bytes.Clone(rec.Data)
					r.Record(&c)
				}
				r.Flush()
			}
		})
	}
}

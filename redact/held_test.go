package redact

import (
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// A multipart message whose last part never comes holds back at most MaxHeld bytes of
// what follows it, on any connection, and a loss record releases it at once: the output
// never stops behind it.
func TestHeldBounded(t *testing.T) {
	enc := &pcmk.Encoder{Dialect: pcmk.DialectB}
	parts, err := enc.Encode(5, `<x a="`+strings.Repeat("a", 200<<10)+`"/>`, 0)
	if err != nil || len(parts) < 2 {
		t.Fatalf("%d parts, %v", len(parts), err)
	}
	one, err := enc.Encode(6, `<ping passwd="s"/>`, 0)
	if err != nil {
		t.Fatal(err)
	}
	msg := func(conn string, data []byte) *capfile.Record {
		return &capfile.Record{Kind: capfile.KindMessage, Conn: conn, Service: "cib_rw", Data: append([]byte(nil), data...), OrigLen: uint32(len(data))}
	}
	const maxHeld = 200 << 10
	r, err := New(Options{MaxHeld: maxHeld})
	if err != nil {
		t.Fatal(err)
	}
	if out := r.Record(msg("X", parts[0])); len(out) != 0 {
		t.Fatalf("the first part came out alone: %d records", len(out))
	}
	n := 0
	for range 10000 {
		n += len(r.Record(msg("Y", one[0])))
		if r.held > maxHeld+len(one[0]) {
			t.Fatalf("%d bytes held, MaxHeld %d", r.held, maxHeld)
		}
	}
	if n != 10001 {
		t.Errorf("%d records out of 10001", n)
	}

	// A loss record: the part waiting is given up, and everything comes out.
	r, _ = New(Options{})
	r.Record(msg("X", parts[0]))
	r.Record(msg("Y", one[0]))
	if out := r.Record(&capfile.Record{Kind: capfile.KindLoss, Lost: 1}); len(out) != 3 {
		t.Errorf("after a loss record, %d records out, want 3", len(out))
	}
}

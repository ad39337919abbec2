package decode

import (
	"bytes"
	"io"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// TestCheckLater decodes the generated scenarios and messages with broken
// XML (in the root's start tag, after it, in UTF-8, and to StrictXML only)
// with Options.CheckLater, running Check in another goroutine as the
// command does: the JSON lines (with the XML) and the Stats must be those
// of a plain decode.
func TestCheckLater(t *testing.T) {
	g := newGen(t)
	for _, sc := range scenarios {
		sc.build(g)
	}
	recs := g.recs
	for _, text := range []string{
		`<a x="1"><b>ok</b></a>`,
		`<a x="1"y="2"/>`,     // broken start tag: found by Next
		`<a x="1"><b></a>`,    // broken later: found by Check
		`<a x="1">&nbsp;</a>`, // bad reference after the start tag
		`<a x="1"/><b/>`,      // second root
		"<a x=\"1\">\xff</a>", // invalid UTF-8
		"<a x=\"1\">\x01</a>", // well-formed to the scan, not to StrictXML
		`<a x="1"><!-- x</a>`, // comment not closed
		`hello<a/>`,           // text before the root
		`<cib_command t="cib" cib_op="cib_query" cib_callid="7"><x>`, // not closed
	} {
		recs = append(recs, msgRec("cib_rw", capfile.ChannelRequest, plainA(text, 0)))
	}
	for _, strict := range []bool{false, true} {
		opts := Options{Lifecycle: true, StrictXML: strict}
		want, wantSt := decodeChecked(t, recs, opts)
		opts.CheckLater = true
		got, gotSt := decodeChecked(t, recs, opts)
		if !bytes.Equal(got, want) {
			t.Fatalf("strict %v: CheckLater output differs:\n%s\nwant\n%s", strict, firstDiff(got, want), firstDiff(want, got))
		}
		if gotSt != wantSt {
			t.Errorf("strict %v: Stats %+v, want %+v", strict, gotSt, wantSt)
		}
		if wantSt.Errors < 8 {
			t.Errorf("strict %v: only %d errors: the broken texts did not count", strict, wantSt.Errors)
		}
	}
}

// decodeChecked decodes recs into JSON lines with the XML, running Check on
// each message in a goroutine of its own that also formats it.
func decodeChecked(t *testing.T, recs []*capfile.Record, opts Options) ([]byte, Stats) {
	t.Helper()
	r := NewReader(&sliceSource{recs: recs}, opts)
	msgs := make(chan *Message, 16)
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		jf := NewJSONFormatter(&out)
		for m := range msgs {
			r.Check(m)
			jf.Format(m)
		}
		jf.Close()
	}()
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		msgs <- m
	}
	close(msgs)
	<-done
	return out.Bytes(), r.Stats()
}

package redact

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// bigCIB is a CIB reply of about n bytes with secrets in it.
func bigCIB(n int) string {
	var b strings.Builder
	b.WriteString(`<cib-reply t="cib" cib_op="cib_query" cib_callid="7" cib_rc="0"><cib_calldata><cib><configuration><resources>`)
	b.WriteString(`<primitive id="fence1" class="stonith" type="fence_ipmilan"><instance_attributes id="fence1-ia"><nvpair id="fence1-pw" name="passwd" value="FencePw-123"/><nvpair id="fence1-login" name="login" value="fenceadmin"/><nvpair id="fence1-user" name="user" value="fenceuser"/></instance_attributes></primitive>`)
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, `<primitive id="r%d" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="r%d-ia"><nvpair id="r%d-p" name="db_password" value="DbPw-%07d"/><nvpair id="r%d-s" name="state" value="/run/r%d"/></instance_attributes></primitive>`, i, i, i, i, i, i)
	}
	b.WriteString(`</resources></configuration></cib></cib_calldata></cib-reply>`)
	return b.String()
}

func records(t *testing.T, enc *pcmk.Encoder, conn string, xml string) []*capfile.Record {
	t.Helper()
	msgs, err := enc.Encode(5, xml, pcmk.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*capfile.Record
	for _, m := range msgs {
		recs = append(recs, &capfile.Record{Kind: capfile.KindMessage, Time: time.Unix(1, 0), Channel: capfile.ChannelResponse,
			Transport: capfile.TransportSHM, Service: "cib_rw", Conn: conn, OrigLen: uint32(len(m)), Data: m})
	}
	return recs
}

type sliceSource struct{ recs []*capfile.Record }

func (s *sliceSource) Next() (*capfile.Record, error) {
	if len(s.recs) == 0 {
		return nil, io.EOF
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}

func decodeRecords(t *testing.T, recs []*capfile.Record) []*decode.Message {
	t.Helper()
	r := decode.NewReader(&sliceSource{recs: recs}, decode.Options{})
	var out []*decode.Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Err != nil {
			t.Errorf("message %d: %v", m.Seq, m.Err)
		}
		out = append(out, m)
	}
}

// redactAll runs recs through a Redactor, copying what it returns.
func redactAll(t *testing.T, r *Redactor, recs []*capfile.Record) []*capfile.Record {
	t.Helper()
	var out []*capfile.Record
	keep := func(rs []*capfile.Record) {
		for _, rec := range rs {
			c := *rec
			c.Data = bytes.Clone(rec.Data)
			out = append(out, &c)
		}
	}
	for _, rec := range recs {
		keep(r.Record(rec))
	}
	keep(r.Flush())
	return out
}

func checkGone(t *testing.T, xml []byte, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(xml, []byte(s)) {
			t.Errorf("%q still in the redacted text", s)
		}
	}
}

func TestCompressedRoundTrip(t *testing.T) {
	xml := bigCIB(200_000)
	enc := &pcmk.Encoder{Dialect: pcmk.DialectA, MaxSize: 65536, Compress: deflate}
	recs := records(t, enc, "qb-1-2-3-abcdef", xml)
	if len(recs) != 1 || pcmk.Flags(recs[0].Data[32])&pcmk.FlagCompressed == 0 {
		t.Fatalf("test message not compressed")
	}
	orig := bytes.Clone(recs[0].Data)
	r, err := New(Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	out := redactAll(t, r, recs)
	if len(out) != 1 {
		t.Fatalf("%d records", len(out))
	}
	if bytes.Equal(out[0].Data, orig) {
		t.Fatal("compressed message unchanged")
	}
	if int(out[0].OrigLen) != len(out[0].Data) {
		t.Errorf("OrigLen %d, %d bytes", out[0].OrigLen, len(out[0].Data))
	}
	msgs := decodeRecords(t, out)
	if len(msgs) != 1 || !msgs[0].Compressed {
		t.Fatalf("decoded %d messages", len(msgs))
	}
	if len(msgs[0].XML) != len(xml) {
		t.Errorf("text %d bytes, was %d", len(msgs[0].XML), len(xml))
	}
	checkGone(t, msgs[0].XML, "FencePw-123", "fenceadmin", "fenceuser", "DbPw-0000001")
	if s := r.Stats(); s.Recompressed != 1 || s.Changed != 1 || s.Values < 4 {
		t.Errorf("stats %+v", s)
	}
}

func TestMultipartRoundTrip(t *testing.T) {
	// A secret straddles the first part boundary.
	head := `<cib-reply t="cib" cib_op="cib_query"><nvpair name="note" value="`
	pad := strings.Repeat("n", pcmk.MaxPartText-len(head)-len(`"/><nvpair name="passwd" value="SPL`))
	xml := head + pad + `"/><nvpair name="passwd" value="SPLITSECRET"/>` + bigCIB(300_000)[len(`<cib-reply t="cib" cib_op="cib_query" cib_callid="7" cib_rc="0">`):]
	enc := &pcmk.Encoder{Dialect: pcmk.DialectB}
	parts := records(t, enc, "qb-1-2-3-abcdef", xml)
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	if !bytes.Contains(parts[0].Data, []byte("SPL")) || bytes.Contains(parts[0].Data, []byte("SPLITSECRET")) {
		t.Fatal("the secret does not straddle the boundary")
	}
	other := records(t, enc, "qb-9-9-9-zzzzzz", `<x passwd="short1"/>`)[0]
	// another connection's message between the parts: the order must hold
	in := []*capfile.Record{parts[0], other}
	in = append(in, parts[1:]...)
	for i, rec := range in {
		rec.Seq = uint64(i + 1)
	}
	sizes := make([]int, len(in))
	for i, rec := range in {
		sizes[i] = len(rec.Data)
	}
	r, err := New(Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	out := redactAll(t, r, in)
	if len(out) != len(in) {
		t.Fatalf("%d records, want %d", len(out), len(in))
	}
	for i, rec := range out {
		if rec.Seq != uint64(i+1) || len(rec.Data) != sizes[i] {
			t.Errorf("record %d: seq %d, %d bytes, want seq %d, %d bytes", i, rec.Seq, len(rec.Data), i+1, sizes[i])
		}
	}
	msgs := decodeRecords(t, out)
	if len(msgs) != 2 {
		t.Fatalf("decoded %d messages", len(msgs))
	}
	whole := msgs[1]
	if whole.Parts != len(parts) || len(whole.XML) != len(xml) {
		t.Errorf("parts %d, text %d bytes; want %d, %d", whole.Parts, len(whole.XML), len(parts), len(xml))
	}
	checkGone(t, whole.XML, "SPLITSECRET", "FencePw-123", "DbPw-0000001")
	checkGone(t, msgs[0].XML, "short1")
	if s := r.Stats(); s.Reassembled != 1 || s.PartsAlone != 0 {
		t.Errorf("stats %+v", s)
	}
}

func TestIncompleteMultipart(t *testing.T) {
	xml := bigCIB(200_000)
	parts := records(t, &pcmk.Encoder{Dialect: pcmk.DialectB}, "qb-1-2-3-abcdef", xml)
	r, err := New(Options{Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	in := parts[:len(parts)-1] // the last part never comes
	out := redactAll(t, r, in)
	if len(out) != len(in) {
		t.Fatalf("%d records, want %d", len(out), len(in))
	}
	for _, rec := range out {
		checkGone(t, rec.Data, "FencePw-123", "DbPw-0000001")
	}
	if s := r.Stats(); s.PartsAlone != uint64(len(in)) {
		t.Errorf("stats %+v", s)
	}
}

func TestTruncatedCompressedZeroed(t *testing.T) {
	enc := &pcmk.Encoder{Dialect: pcmk.DialectA, MaxSize: 65536, Compress: deflate}
	rec := records(t, enc, "qb-1-2-3-abcdef", bigCIB(200_000))[0]
	rec.Data = rec.Data[:1000]
	rec.Flags |= capfile.FlagTruncated
	r, _ := New(Options{})
	out := redactAll(t, r, []*capfile.Record{rec})
	if len(out[0].Data) != 1000 || bytes.ContainsFunc(out[0].Data[envelopeLen:], func(c rune) bool { return c != 0 }) {
		t.Errorf("cut compressed body not zeroed")
	}
	if r.Stats().Zeroed != 1 {
		t.Errorf("stats %+v", r.Stats())
	}
}

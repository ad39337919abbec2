package decode

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Fuzz targets: FuzzEnvelope, FuzzMultipart, FuzzReader, FuzzXML; those of
// the wire format alone (envelopes, reassembly, bzip2) are package pcmk's.
// Each runs in CI for a short time (go test -run '^$' -fuzz '^FuzzX$'
// -fuzztime 30s ./decode/); the seed corpus is in testdata/fuzz/<target>,
// written by TestWriteFixtures -fixtures from the seeds below, plus inputs
// the fuzzer once failed on. Limits are small so that no input can make a
// run allocate much.

const fuzzLimit = 1 << 16

func envelopeSeeds() [][]byte {
	text := append([]byte(registerXML), 0)
	return [][]byte{
		envelopeA(1, text, uint32(len(text)), pcmk.FlagClientResponse),
		envelopeA(225, append([]byte(xmlCibReply("cib_query", 2, uuidCibadmin, smallCIB)), 0), 0, pcmk.FlagServerEvent|pcmk.FlagServerFree),
		envelopeA(4, []byte("BZh41AY&SY\x00\x01"), 192100, pcmk.FlagCompressed|pcmk.FlagServerFree),
		envelopeB(1, text, pcmk.FlagClientResponse, 0),
		envelopeB(7, text, mp, 1),
		envelopeB(7, []byte{0}, mpEnd, 2),
		put32(make([]byte, 24), 8, 24),
		put32(put32(make([]byte, 16), 0, 0xfffffffd), 8, 16),
	}
}

// FuzzEnvelope decodes one message record of arbitrary bytes on each
// channel and in each dialect mode.
func FuzzEnvelope(f *testing.F) {
	for _, s := range envelopeSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range []Dialect{DialectAuto, DialectA, DialectB} {
			for _, ch := range []capfile.Channel{capfile.ChannelRequest, capfile.ChannelResponse, capfile.ChannelEvent} {
				rec := msgRec("cib_rw", ch, data)
				msgs, _ := decodeAll(t, []*capfile.Record{rec}, Options{Dialect: d, MaxDecompressed: fuzzLimit})
				checkFuzzMessages(t, msgs, 1)
			}
		}
	})
}

// checkFuzzMessages checks what must hold for any input: every message
// record is accounted for exactly once, and every output format copes.
func checkFuzzMessages(t *testing.T, msgs []*Message, records int) {
	parts := 0
	for _, m := range msgs {
		if m.Kind != KindMessage {
			continue
		}
		parts += m.Parts
		if len(m.XML) > fuzzLimit {
			t.Fatalf("%d bytes of XML over the %d limit", len(m.XML), fuzzLimit)
		}
		if b := AppendJSON(nil, m, false); !json.Valid(b) {
			t.Fatalf("invalid JSON: %s", b)
		}
		var buf bytes.Buffer
		tf := NewTextFormatter(&buf)
		tf.Verbose = true
		xf := NewXMLFormatter(&buf)
		if tf.Format(m) != nil || tf.Close() != nil || xf.Format(m) != nil || xf.Close() != nil {
			t.Fatal("format failed")
		}
	}
	if parts != records {
		t.Fatalf("%d parts in messages for %d records", parts, records)
	}
}

// multipartProgram turns bytes into a sequence of dialect B parts: per
// step, one byte selects connection, channel and multipart flags, one the
// part id, one the qb id, one the text length.
func multipartProgram(data []byte) []*capfile.Record {
	var recs []*capfile.Record
	for len(data) >= 4 {
		sel, k, id, n := data[0], data[1]%8, int32(data[2]%4), int(data[3]%32)
		data = data[4:]
		n = min(n, len(data))
		text := data[:n]
		data = data[n:]
		if sel&0x40 != 0 {
			recs = append(recs, &capfile.Record{Kind: capfile.KindDisconnect, Conn: fmt.Sprintf("c%d", sel&1)})
			continue
		}
		flags := []Flags{0, mp, mpEnd, pcmk.FlagMultipartEnd}[sel>>1&3]
		ch := capfile.ChannelRequest + capfile.Channel(sel>>3&1)
		payload := append(append([]byte(nil), text...), 0)
		if sel&0x80 != 0 {
			payload = payload[:len(payload)-1]
		}
		r := msgRec("cib_rw", ch, envelopeB(id, payload, flags, uint16(k)))
		r.Conn = fmt.Sprintf("c%d", sel&1)
		if sel&0x20 != 0 && len(r.Data) > envelopeLen {
			r.Data = r.Data[:len(r.Data)-1]
			r.Flags |= capfile.FlagTruncated
		}
		recs = append(recs, r)
	}
	for i, r := range recs {
		r.Seq = uint64(i + 1)
	}
	return recs
}

// FuzzMultipart runs arbitrary part sequences through reassembly: every
// part ends up in exactly one message, and broken sequences name their
// connection.
func FuzzMultipart(f *testing.F) {
	f.Add([]byte("\x02\x00\x01\x02<a\x04\x01\x01\x02/>"))
	f.Add([]byte("\x02\x00\x01\x02<a\x03\x00\x01\x02<b\x04\x01\x01\x02/>\x05\x01\x01\x02/>"))
	f.Add([]byte("\x02\x00\x01\x02<a\x02\x01\x01\x01 \x02\x01\x01\x01 \x04\x02\x01\x02/>"))
	f.Add([]byte("\x02\x00\x01\x02<a\x40\x00\x00\x00\x00\x00\x02\x04<b/>"))
	f.Add([]byte("\x04\x03\x01\x02/>\x82\x00\x01\x02<a\x22\x00\x02\x03<a/"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := multipartProgram(data)
		msgs, _ := decodeAll(t, recs, Options{MaxDecompressed: 64})
		n := 0
		for _, r := range recs {
			if r.Kind == capfile.KindMessage {
				n++
			}
		}
		checkFuzzMessages(t, msgs, n)
		for _, m := range msgs {
			if fe, ok := m.Err.(*FormatError); ok && errors.Is(fe, ErrMultipart) && fe.Conn == "" {
				t.Fatalf("multipart error without its connection: %v", fe)
			}
		}
	})
}

// readerProgram turns bytes into records of any kind, service and channel.
func readerProgram(data []byte) []*capfile.Record {
	services := []string{"cib_rw", "crmd", "lrmd", "stonith-ng", "pacemakerd", "attrd", "cpg", "mystery"}
	var recs []*capfile.Record
	for len(data) >= 3 {
		sel, svc, n := data[0], data[1], int(binary.LittleEndian.Uint16([]byte{data[2], 0}))*4
		data = data[3:]
		n = min(n, len(data))
		body := data[:n]
		data = data[n:]
		r := msgRec(services[svc%8], capfile.Channel(sel%4), append([]byte(nil), body...))
		r.Kind = capfile.Kind(1 + sel>>2%5)
		r.Conn = "c" + strconv.Itoa(int(sel>>4%3))
		r.Lost = uint32(sel)
		if sel&0x80 != 0 {
			r.Flags |= capfile.FlagTruncated
			r.OrigLen += uint32(sel)
		}
		r.Time = genEpoch.Add(time.Duration(len(recs)) * time.Minute)
		r.Seq = uint64(len(recs) + 1)
		recs = append(recs, r)
	}
	return recs
}

// FuzzReader decodes arbitrary record streams with tiny limits, through
// every formatter.
func FuzzReader(f *testing.F) {
	f.Add([]byte("\x01\x00\x20" + string(plainA(registerXML, pcmk.FlagClientResponse))))
	f.Add([]byte("\x02\x00\x20" + string(envelopeB(1, append([]byte(registerXML), 0), mp, 0))))
	f.Add([]byte("\x10\x06\x04" + string(put32(make([]byte, 16), 8, 16))))
	f.Add([]byte("\x0c\x00\x00\x08\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		recs := readerProgram(data)
		r := NewReader(&sliceSource{recs: recs}, Options{MaxDecompressed: fuzzLimit, MaxPending: 4, PendingTimeout: 3 * time.Minute, Lifecycle: true})
		var msgs []*Message
		for {
			m, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs = append(msgs, m)
		}
		n := 0
		for _, rec := range recs {
			if rec.Kind == capfile.KindMessage {
				n++
			}
		}
		checkFuzzMessages(t, msgs, n)
		if st := r.Stats(); st.Answered+st.Unanswered != st.Requests {
			t.Fatalf("stats %+v", st)
		}
		if len(r.pairs.conns) != 0 || !noneHeld(r.parts) {
			t.Fatal("state left after the end")
		}
	})
}

// writeFuzzCorpus writes the seeds as corpus files.
func writeFuzzCorpus(t *testing.T) {
	write := func(target string, i int, vals ...any) {
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range vals {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(string(v)))
			case uint32:
				fmt.Fprintf(&b, "uint32(%d)\n", v)
			}
		}
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range envelopeSeeds() {
		write("FuzzEnvelope", i, s)
	}
	g := newGen(t)
	c := g.connect("cib_rw", 1, "cibadmin", 2, "pacemaker-based", DialectB)
	c.response(1, sized(2, 1000), 0)
	var prog []byte
	for _, p := range splitParts(sized(2, 300)) {
		prog = append(prog, 2, 0, 1, byte(len(p)-1))
		prog = append(prog, p[:len(p)-1]...)
	}
	write("FuzzMultipart", 0, prog)
	var rd []byte
	for _, r := range g.recs[1:] {
		if len(r.Data) < 4*255 {
			rd = append(rd, byte(r.Channel), 0, byte((len(r.Data)+3)/4))
			rd = append(rd, r.Data...)
		}
	}
	write("FuzzReader", 0, append(rd, "\x02\x00\x20"+string(plainA(xmlAttrdReply, 0))...))
	for i, x := range []string{registerXML, xmlCibDiffNotify, xmlLrmdExec, xmlStQueryReply} {
		write("FuzzXML", i, []byte(x))
	}
}

// FuzzXML compares the built-in well-formedness scan with etree
// (encoding/xml), in both directions, on valid UTF-8 without control
// characters. encoding/xml is laxer than the XML specification in ways
// the scan is not: it takes any <!directive>, attributes without space
// between them, and text outside the root element; those inputs are only
// checked one way.
func FuzzXML(f *testing.F) {
	f.Add([]byte(registerXML))
	f.Add([]byte(xmlCibDiffNotify))
	f.Add([]byte(`<?xml version="1.0"?><!-- c --><a x='1'><![CDATA[x]]>&amp;&#10;<?p x?></a>`))
	f.Fuzz(func(t *testing.T, text []byte) {
		if !utf8.Valid(text) || bytes.ContainsRune(text, 0xFFFE) || bytes.ContainsRune(text, 0xFFFF) {
			return
		}
		for _, c := range text {
			if c < 0x20 && c != '\n' && c != '\t' && c != '\r' {
				return
			}
		}
		var s xmlScanner
		serr := s.scan(text)
		eerr := strictXML(text)
		if serr == nil && eerr != nil {
			t.Fatalf("etree rejects what the scan accepts: %v", eerr)
		}
		lax := bytes.Contains(text, []byte("<!")) || (serr != nil &&
			(strings.Contains(serr.msg, "expected space before attribute") ||
				strings.Contains(serr.msg, "content after the root") ||
				strings.Contains(serr.msg, "text before the root")))
		if serr != nil && eerr == nil && !lax {
			t.Fatalf("the scan rejects what etree accepts: %v", serr)
		}
	})
}

func noneHeld(r *reassembler) bool {
	n, held := r.Held()
	return n == 0 && held == 0
}

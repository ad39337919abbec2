package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// sampleMessages decodes every generated scenario plus one of each odd
// record: loss, connect, damaged packet, unknown kind, broken XML,
// truncated, receive-side.
func sampleMessages(t *testing.T) []*Message {
	g := newGen(t)
	allScenarios(g)
	g.add(&capfile.Record{Kind: capfile.KindLoss, Lost: 3, Cause: capfile.LossCopyFailed})
	g.add(&capfile.Record{Kind: 42})
	bad := msgRec("cib_rw", capfile.ChannelRequest, plainA("<a>\x01\"\\\u2028\xff</b>", 0))
	bad.Seq = g.seq + 1
	cut := msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0)[:70])
	cut.Seq, cut.OrigLen, cut.Flags = g.seq+2, 126, capfile.FlagTruncated|capfile.FlagRX
	recs := append(g.recs, bad, cut)
	recs = append(recs, cpgRecords(g.seq+3, "sample\x00")...)
	var opts Options
	opts.Lifecycle = true
	msgs, _ := decodeAll(t, recs, opts)
	return append(msgs, &Message{Kind: KindInvalid, Packet: 5, Err: errors.New("capfile: packet 5 at byte 99: bad")})
}

func TestJSONLines(t *testing.T) {
	msgs := sampleMessages(t)
	var buf bytes.Buffer
	f := NewJSONFormatter(&buf)
	for _, m := range msgs {
		if err := f.Format(m); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	sc := bufio.NewScanner(&buf)
	sc.Buffer(nil, 16<<20)
	i := 0
	for ; sc.Scan(); i++ {
		m := msgs[i]
		var obj map[string]any
		dec := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil {
			t.Fatalf("line %d: %v: %.200s", i+1, err, sc.Text())
		}
		switch m.Kind {
		case KindMessage:
			for _, k := range []string{"seq", "time", "pid", "comm", "service", "channel", "client_pid", "server_pid", "conn",
				"qb_id", "size", "dialect", "flags", "compressed", "parts", "xml_bytes", "op", "xml", "reply_to", "latency_ns", "truncated"} {
				if _, ok := obj[k]; !ok {
					t.Errorf("line %d: no %q", i+1, k)
				}
			}
			if x, _ := obj["xml"].(string); x != strings.ToValidUTF8(string(m.XML), "\uFFFD") {
				t.Errorf("line %d: xml does not round-trip", i+1)
			}
			if (m.ReplyTo == nil) != (obj["reply_to"] == nil) || (m.ReplyTo == nil) != (obj["latency_ns"] == nil) {
				t.Errorf("line %d: reply_to %v latency_ns %v", i+1, obj["reply_to"], obj["latency_ns"])
			}
			if ts, err := time.Parse(time.RFC3339Nano, obj["time"].(string)); err != nil || !ts.Equal(m.Time) {
				t.Errorf("line %d: time %v: %v", i+1, obj["time"], err)
			}
		case KindLoss:
			for k := range obj {
				if !slices.Contains([]string{"seq", "packet", "time", "lost", "cause"}, k) {
					t.Errorf("line %d: loss record has %q", i+1, k)
				}
			}
			if obj["lost"] == nil || obj["cause"] != "copy_failed" {
				t.Errorf("line %d: loss record %v", i+1, obj)
			}
		}
		if (m.Err != nil) != (obj["error"] != nil) {
			t.Errorf("line %d: error %v", i+1, obj["error"])
		}
	}
	if i != len(msgs) {
		t.Errorf("%d lines for %d messages", i, len(msgs))
	}
}

// TestJSONKeysDocumented checks that JSON.md documents every key the
// formatter writes, and nothing more.
func TestJSONKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	var documented []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllSubmatch(doc, -1) {
		documented = append(documented, string(m[1]))
	}
	seen := map[string]bool{}
	for _, m := range sampleMessages(t) {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(AppendJSON(nil, m, false), &obj); err != nil {
			t.Fatal(err)
		}
		for k := range obj {
			seen[k] = true
		}
	}
	for k := range seen {
		if !slices.Contains(documented, k) {
			t.Errorf("key %q written but not in JSON.md", k)
		}
	}
	for _, k := range documented {
		if !seen[k] {
			t.Errorf("key %q in JSON.md but never written by the samples", k)
		}
	}
}

func TestJSONString(t *testing.T) {
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"plain", `<a x="1"/>`, `"<a x=\"1\"/>"`},
		{"controls", "a\nb\tc\rd\x01", `"a\nb\tc\rd\u0001"`},
		{"backslash", `a\b`, `"a\\b"`},
		{"invalid UTF-8", "a\xffb", `"a\ufffdb"`},
		{"line separators", "a\u2028b\u2029", `"a\u2028b\u2029"`},
		{"multi-byte", "ünï", `"ünï"`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := string(appendJSONString(nil, tc.in)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
			if got := string(appendJSONString(nil, []byte(tc.in))); got != tc.want {
				t.Errorf("[]byte: got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestXMLDocument(t *testing.T) {
	msgs := sampleMessages(t)
	var buf bytes.Buffer
	f := NewXMLFormatter(&buf)
	for _, m := range msgs {
		if err := f.Format(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	dec := xml.NewDecoder(&buf)
	counts := map[string]int{}
	depth := 0
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("document does not parse: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 1 {
				counts[tok.Name.Local]++
			}
			depth++
		case xml.EndElement:
			depth--
		}
	}
	want := map[string]int{}
	for _, m := range msgs {
		want[m.Kind.String()]++
	}
	for k, n := range want {
		if counts[k] != n {
			t.Errorf("%d <%s> elements, want %d", counts[k], k, n)
		}
	}
}

func TestXMLDocumentEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := NewXMLFormatter(&buf).Close(); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != xmlHeader+"</pcmk-trace>\n" {
		t.Errorf("got %q", got)
	}
}

func TestTextLines(t *testing.T) {
	msgs := sampleMessages(t)
	var buf bytes.Buffer
	f := NewTextFormatter(&buf)
	f.Location = time.UTC
	for _, m := range msgs {
		if err := f.Format(m); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != len(msgs) {
		t.Fatalf("%d lines for %d messages", len(lines), len(msgs))
	}
	for _, tc := range []struct {
		desc string
		find string
	}{
		{"loss", "LOST 3 messages: copy_failed"},
		{"damaged packet", "packet 5 INVALID: capfile: packet 5 at byte 99: bad"},
		{"truncated receive-side", "request cib_command id=1 126B A truncated 30/85 rx"},
		{"broken XML", "offset 50: decode: malformed XML: </b> closes <a> at byte 10 of the text"},
		{"reply with latency", "event reply cib_query id=225 1258B A server_event|server_free rc=0 re #4 250µs"},
		{"ack", "response ack id=1 102B A client_response|server_free rc=112 re #8 ping 50µs"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if !strings.Contains(buf.String(), tc.find) {
				t.Errorf("no line with %q", tc.find)
			}
		})
	}
}

// The eight-bytes-at-a-time path must find every byte that needs escaping
// wherever it sits in a word: every byte value at every position of a text
// longer than two words is escaped as encoding/json would, and decodes back.
func TestJSONStringEveryByteEveryPosition(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 20; pos++ {
			in := []byte(strings.Repeat("a", 20))
			in[pos] = byte(c)
			got := appendJSONString(nil, in)
			var back string
			if err := json.Unmarshal(got, &back); err != nil {
				t.Fatalf("byte %#02x at %d: %s does not decode: %v", c, pos, got, err)
			}
			if want := strings.ToValidUTF8(string(in), "\uFFFD"); back != want {
				t.Fatalf("byte %#02x at %d: %s decodes to %q, want %q", c, pos, got, back, want)
			}
			if c < 0x20 && !bytes.Contains(got, []byte(`\`)) {
				t.Fatalf("byte %#02x at %d left unescaped: %s", c, pos, got)
			}
			if c >= 0x80 && !bytes.Contains(got, []byte(`\ufffd`)) {
				t.Fatalf("invalid UTF-8 byte %#02x at %d not replaced: %q", c, pos, got)
			}
		}
	}
}

package pcmk

import (
	"bytes"
	"strconv"
	"unicode/utf8"
)

// A StartTag reads the start tag of the root element of an XML text: its
// name, then its attributes one by one. It reads only that tag and trusts
// the text to be well-formed; anything it cannot read ends the attributes.
// Checking a whole document is the decoder's business.
type StartTag struct {
	root        []byte
	rest        []byte
	name, value []byte
}

// ReadStartTag returns a reader of the root start tag of text, skipping
// white space, an XML declaration, processing instructions, comments and
// a DOCTYPE without internal subset before it.
func ReadStartTag(text []byte) StartTag {
	p := text
	for {
		p = bytes.TrimLeft(p, " \t\r\n")
		var end []byte
		switch {
		case bytes.HasPrefix(p, []byte("<?")):
			end = []byte("?>")
		case bytes.HasPrefix(p, []byte("<!--")):
			end = []byte("-->")
		case bytes.HasPrefix(p, []byte("<!")):
			end = []byte(">")
		}
		if end == nil {
			break
		}
		i := bytes.Index(p[2:], end)
		if i < 0 {
			return StartTag{}
		}
		p = p[2+i+len(end):]
	}
	if len(p) < 2 || p[0] != '<' {
		return StartTag{}
	}
	n := 1
	for n < len(p) && !isSpace(p[n]) && p[n] != '>' && p[n] != '/' && p[n] != 0 {
		n++
	}
	if n == 1 {
		return StartTag{}
	}
	return StartTag{root: p[1:n], rest: p[n:]}
}

// Root returns the root element's name, or nil when the text has no start
// tag that can be read.
func (t *StartTag) Root() []byte { return t.root }

// Next moves to the next attribute and reports whether there is one; it
// returns false at the end of the tag and at anything it cannot read.
func (t *StartTag) Next() bool {
	p := t.rest
	i := 0
	for i < len(p) && isSpace(p[i]) {
		i++
	}
	j := i
	for j < len(p) && p[j] != '=' && p[j] != '>' && p[j] != '/' && !isSpace(p[j]) {
		j++
	}
	name := p[i:j]
	for j < len(p) && isSpace(p[j]) {
		j++
	}
	if len(name) == 0 || j >= len(p) || p[j] != '=' {
		t.rest = nil
		return false
	}
	for j++; j < len(p) && isSpace(p[j]); j++ {
	}
	if j >= len(p) || (p[j] != '"' && p[j] != '\'') {
		t.rest = nil
		return false
	}
	k := bytes.IndexByte(p[j+1:], p[j])
	if k < 0 {
		t.rest = nil
		return false
	}
	t.name, t.value = name, p[j+1:j+1+k]
	t.rest = p[j+1+k+1:]
	return true
}

// Name returns the current attribute's name.
func (t *StartTag) Name() []byte { return t.name }

// Value returns the current attribute's raw value: references are not
// replaced (see [Unescape]).
func (t *StartTag) Value() []byte { return t.value }

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// RootAttr returns the value of attribute name on the root element of
// text, references replaced, or "" when it has none.
func RootAttr(text []byte, name string) string {
	t := ReadStartTag(text)
	for t.Next() {
		if string(t.Name()) == name {
			return Unescape(t.Value())
		}
	}
	return ""
}

// Unescape replaces the predefined entity and character references in a
// raw attribute value. Anything that is not a reference stays as it is.
func Unescape(v []byte) string {
	if bytes.IndexByte(v, '&') < 0 {
		return string(v)
	}
	return string(AppendUnescaped(make([]byte, 0, len(v)), v))
}

// AppendUnescaped appends v to dst with its references replaced, as
// Unescape does, for callers that reuse a buffer.
func AppendUnescaped(dst, v []byte) []byte {
	out := dst
	for len(v) > 0 {
		amp := bytes.IndexByte(v, '&')
		if amp < 0 {
			out = append(out, v...)
			break
		}
		out = append(out, v[:amp]...)
		v = v[amp:]
		semi := bytes.IndexByte(v, ';')
		if semi < 2 {
			out = append(out, '&')
			v = v[1:]
			continue
		}
		body, ok := string(v[1:semi]), true
		switch body {
		case "lt":
			out = append(out, '<')
		case "gt":
			out = append(out, '>')
		case "amp":
			out = append(out, '&')
		case "apos":
			out = append(out, '\'')
		case "quot":
			out = append(out, '"')
		default:
			var r uint64
			var err error = strconv.ErrSyntax
			switch {
			case len(body) > 2 && body[:2] == "#x":
				r, err = strconv.ParseUint(body[2:], 16, 32)
			case len(body) > 1 && body[0] == '#':
				r, err = strconv.ParseUint(body[1:], 10, 32)
			}
			if ok = err == nil; ok {
				out = utf8.AppendRune(out, rune(r))
			}
		}
		if !ok {
			out = append(out, '&')
			v = v[1:]
			continue
		}
		v = v[semi+1:]
	}
	return out
}

// Describe summarises a raw Pacemaker message for a one-line display:
// "<name>" when the payload after its envelope starts with an XML element,
// followed by the operation its start tag names (the best-ranked of the
// [OpRank] attributes, when short and printable), "(bzip2)" when the
// payload is compressed, or "". It reads the first 4 KB of the payload at
// most.
func Describe(msg []byte) string {
	// The envelope's version byte: offset 36 in dialect A, 32 in B.
	if len(msg) <= EnvelopeLen || (msg[36] != version && msg[32] != version) {
		return ""
	}
	p := msg[EnvelopeLen:]
	if bytes.HasPrefix(p, []byte("BZh")) {
		return "(bzip2)"
	}
	if p[0] != '<' {
		return ""
	}
	t := ReadStartTag(p[:min(len(p), 4096)])
	if !printable(t.Root()) || len(t.Root()) >= 64 {
		return ""
	}
	root := "<" + string(t.Root()) + ">"
	op, rank := "", OpRankNone
	for t.Next() {
		if r := OpRank(t.Name()); r < rank && printable(t.Value()) {
			op, rank = string(t.Value()), r
		}
	}
	if op != "" {
		return root + " " + op
	}
	return root
}

// printable reports whether v is 1 to 64 bytes of printable ASCII
// without spaces.
func printable(v []byte) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

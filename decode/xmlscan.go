package decode

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// xmlAttr is one attribute of the root element, as bytes of the text; the
// value is raw (entity references not yet replaced).
type xmlAttr struct {
	name, value []byte
}

// xmlScanner checks that a message's text is one well-formed XML element and
// collects the root element's name and attributes on the way. It is a
// single pass over the bytes with no allocation in the steady state, so
// that decoding keeps up with captures of any size; Options.StrictXML adds
// a full etree parse on top.
//
// It checks what a broken Pacemaker message can get wrong: UTF-8, NUL
// bytes, tag and attribute syntax, quoting, '<' in attribute values, "]]>"
// in text, entity and character references, matching end tags, a single
// root element, comments, CDATA sections, processing instructions, and
// names with at most one colon, of XML 1.0's name characters. It does not
// check duplicate attributes (neither does encoding/xml).
type xmlScanner struct {
	b     []byte
	i     int
	stack [][]byte
	root  []byte
	attrs []xmlAttr
}

// maxXMLDepth is etree's limit on nested elements, which it reads no deeper.
const maxXMLDepth = 1024

// xmlError is a syntax error at byte pos of the text.
type xmlError struct {
	pos int
	msg string
}

func (e *xmlError) Error() string { return fmt.Sprintf("%s at byte %d", e.msg, e.pos) }

func (s *xmlScanner) errorf(pos int, format string, args ...any) *xmlError {
	return &xmlError{pos: pos, msg: fmt.Sprintf(format, args...)}
}

// scan checks text. After it returns, s.root is the root element's name
// (nil if there was none) and s.attrs the root attributes read completely,
// even if a later part of the text is broken or missing (a truncated
// capture).
func (s *xmlScanner) scan(text []byte) *xmlError {
	s.b, s.i = text, 0
	s.stack = s.stack[:0]
	s.root = nil
	s.attrs = s.attrs[:0]
	if err := s.document(); err != nil {
		return err
	}
	if !utf8.Valid(text) {
		pos := 0
		for pos < len(text) {
			r, n := utf8.DecodeRune(text[pos:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			pos += n
		}
		return s.errorf(pos, "invalid UTF-8")
	}
	if pos := bytes.IndexByte(text, 0); pos >= 0 {
		return s.errorf(pos, "NUL byte in text")
	}
	return nil
}

// scanRoot reads only what comes before the root element and the root's
// start tag, setting s.root and s.attrs as scan does; the rest of the text
// is not checked (Options.RootOnly).
func (s *xmlScanner) scanRoot(text []byte) *xmlError {
	s.b, s.i = text, 0
	s.stack = s.stack[:0]
	s.root = nil
	s.attrs = s.attrs[:0]
	if err := s.misc(); err != nil {
		return err
	}
	if s.i >= len(s.b) {
		return s.errorf(s.i, "no root element")
	}
	if s.b[s.i] != '<' {
		return s.errorf(s.i, "text before the root element")
	}
	_, err := s.startTag()
	return err
}

func (s *xmlScanner) document() *xmlError {
	if err := s.misc(); err != nil {
		return err
	}
	if s.i >= len(s.b) {
		return s.errorf(s.i, "no root element")
	}
	if s.b[s.i] != '<' {
		return s.errorf(s.i, "text before the root element")
	}
	if err := s.element(); err != nil {
		return err
	}
	if err := s.misc(); err != nil {
		return err
	}
	if s.i < len(s.b) {
		return s.errorf(s.i, "content after the root element")
	}
	return nil
}

// misc skips white space, comments, processing instructions and a DOCTYPE
// before or after the root element.
func (s *xmlScanner) misc() *xmlError {
	for {
		s.space()
		rest := s.b[s.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := s.pi(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := s.comment(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!DOCTYPE")):
			if err := s.doctype(); err != nil {
				return err
			}
		default:
			return nil
		}
	}
}

// element reads the element starting at s.i and everything inside it.
func (s *xmlScanner) element() *xmlError {
	selfClosed, err := s.startTag()
	if err != nil || selfClosed {
		return err
	}
	for len(s.stack) > 0 {
		j := bytes.IndexByte(s.b[s.i:], '<')
		if j < 0 {
			return s.errorf(len(s.b), "<%s> not closed", s.stack[len(s.stack)-1])
		}
		text := s.b[s.i : s.i+j]
		if err := s.refs(text, s.i); err != nil {
			return err
		}
		if k := bytes.Index(text, []byte("]]>")); k >= 0 {
			return s.errorf(s.i+k, "]]> in text outside a CDATA section")
		}
		s.i += j
		rest := s.b[s.i:]
		switch {
		case bytes.HasPrefix(rest, []byte("</")):
			if err := s.endTag(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!--")):
			if err := s.comment(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				return s.errorf(s.i, "CDATA section not closed")
			}
			s.i += end + 3
		case bytes.HasPrefix(rest, []byte("<?")):
			if err := s.pi(); err != nil {
				return err
			}
		case bytes.HasPrefix(rest, []byte("<!")):
			return s.errorf(s.i, "unexpected <!")
		default:
			if _, err := s.startTag(); err != nil {
				return err
			}
		}
	}
	return nil
}

// startTag reads "<name attr='v' ...>" or "/>" at s.i, pushing the name
// unless the element closes itself.
func (s *xmlScanner) startTag() (selfClosed bool, err *xmlError) {
	if len(s.stack) >= maxXMLDepth {
		return false, s.errorf(s.i, "elements nested deeper than %d", maxXMLDepth)
	}
	s.i++ // '<'
	name := s.name()
	if name == nil {
		return false, s.errorf(s.i, "invalid element name")
	}
	isRoot := s.root == nil
	if isRoot {
		s.root = name
	}
	for {
		spaced := s.space()
		if s.i >= len(s.b) {
			return false, s.errorf(s.i, "<%s> start tag not closed", name)
		}
		switch s.b[s.i] {
		case '>':
			s.i++
			s.stack = append(s.stack, name)
			return false, nil
		case '/':
			if s.i+1 >= len(s.b) || s.b[s.i+1] != '>' {
				return false, s.errorf(s.i, "expected /> in <%s>", name)
			}
			s.i += 2
			return true, nil
		}
		if !spaced {
			return false, s.errorf(s.i, "expected space before attribute in <%s>", name)
		}
		start := s.i
		attr := s.name()
		if attr == nil {
			return false, s.errorf(s.i, "invalid attribute name in <%s>", name)
		}
		s.space()
		if s.i >= len(s.b) || s.b[s.i] != '=' {
			return false, s.errorf(s.i, "expected = after attribute %s", attr)
		}
		s.i++
		s.space()
		if s.i >= len(s.b) || (s.b[s.i] != '"' && s.b[s.i] != '\'') {
			return false, s.errorf(s.i, "attribute %s value not quoted", attr)
		}
		q := s.b[s.i]
		s.i++
		value, err := s.attrValue(q, start, attr)
		if err != nil {
			return false, err
		}
		if isRoot {
			s.attrs = append(s.attrs, xmlAttr{name: attr, value: value})
		}
	}
}

// attrValue reads an attribute value up to its closing quote q, checking
// its references and that it holds no '<', and steps past the quote. Values
// are short, so one pass over a table beats several IndexByte calls.
func (s *xmlScanner) attrValue(q byte, start int, attr []byte) ([]byte, *xmlError) {
	stop := &valueStopDouble
	if q == '\'' {
		stop = &valueStopSingle
	}
	b, first := s.b, s.i
	i := first
	for {
		for i < len(b) && !stop[b[i]] {
			i++
		}
		if i >= len(b) {
			return nil, s.errorf(start, "attribute %s value not closed", attr)
		}
		switch b[i] {
		case '<':
			return nil, s.errorf(i, "'<' in attribute %s value", attr)
		case '&':
			n, ok := refLen(b[i:])
			if !ok {
				return nil, s.errorf(i, "invalid reference")
			}
			i += n
			continue
		}
		s.i = i + 1
		return b[first:i], nil
	}
}

// valueStopDouble and valueStopSingle mark the bytes that end a run of
// plain characters in a "-quoted and a '-quoted attribute value.
var valueStopDouble, valueStopSingle = func() (d, s [256]bool) {
	for _, c := range []byte{'<', '&'} {
		d[c], s[c] = true, true
	}
	d['"'], s['\''] = true, true
	return d, s
}()

func (s *xmlScanner) endTag() *xmlError {
	start := s.i
	s.i += 2
	name := s.name()
	s.space()
	if name == nil || s.i >= len(s.b) || s.b[s.i] != '>' {
		return s.errorf(start, "malformed end tag")
	}
	s.i++
	open := s.stack[len(s.stack)-1]
	if !bytes.Equal(name, open) {
		return s.errorf(start, "</%s> closes <%s>", name, open)
	}
	s.stack = s.stack[:len(s.stack)-1]
	return nil
}

func (s *xmlScanner) comment() *xmlError {
	body := s.b[s.i+4:]
	end := bytes.Index(body, []byte("-->"))
	if end < 0 {
		return s.errorf(s.i, "comment not closed")
	}
	// XML allows no "--" in a comment, nor a '-' just before its end.
	if body = body[:end]; bytes.Contains(body, []byte("--")) || bytes.HasSuffix(body, []byte("-")) {
		return s.errorf(s.i, `"--" in a comment`)
	}
	s.i += 4 + end + 3
	return nil
}

func (s *xmlScanner) pi() *xmlError {
	start := s.i
	s.i += 2
	target := s.piTarget()
	if target == nil {
		return s.errorf(s.i, "processing instruction without a target")
	}
	end := bytes.Index(s.b[s.i:], []byte("?>"))
	if end < 0 {
		return s.errorf(start, "processing instruction not closed")
	}
	if string(target) == "xml" {
		// etree (encoding/xml) reads only XML 1.0 and refuses the rest.
		if v := declaredVersion(s.b[s.i : s.i+end]); len(v) > 0 && string(v) != "1.0" {
			return s.errorf(start, "XML declaration of version %q; only 1.0 is read", v)
		}
	}
	s.i += end + 2
	return nil
}

// declaredVersion finds the version in an XML declaration's content as
// encoding/xml does: the first "version=" directly followed by a quote,
// up to the same quote; nil when there is none.
func declaredVersion(content []byte) []byte {
	const key = "version="
	for rest := content; ; {
		k := bytes.Index(rest, []byte(key))
		if k < 0 || k+len(key) >= len(rest) {
			return nil
		}
		q := rest[k+len(key)]
		rest = rest[k+len(key)+1:]
		if q == '"' || q == '\'' {
			if j := bytes.IndexByte(rest, q); j >= 0 {
				return rest[:j]
			}
			return nil
		}
	}
}

// doctype skips a DOCTYPE declaration the way encoding/xml skips any
// directive: up to the '>' that closes it, counting the '<' and '>' outside
// quotes and skipping comments; brackets mean nothing to it.
func (s *xmlScanner) doctype() *xmlError {
	start, b := s.i, s.b
	depth := 0
	var quote byte
	for i := s.i + 2; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			if depth == 0 {
				s.i = i + 1
				return nil
			}
			depth--
		case c == '<':
			if bytes.HasPrefix(b[i+1:], []byte("!--")) {
				end := bytes.Index(b[i+4:], []byte("-->"))
				if end < 0 {
					return s.errorf(i, "comment not closed")
				}
				i += 4 + end + 2
				continue
			}
			depth++
		}
	}
	return s.errorf(start, "DOCTYPE not closed")
}

// refs checks the entity and character references in text found at pos.
func (s *xmlScanner) refs(text []byte, pos int) *xmlError {
	for {
		amp := bytes.IndexByte(text, '&')
		if amp < 0 {
			return nil
		}
		n, ok := refLen(text[amp:])
		if !ok {
			return s.errorf(pos+amp, "invalid reference")
		}
		text = text[amp+n:]
		pos += amp + n
	}
}

// refLen returns the length of the reference at the start of b ("&amp;",
// "&#10;", "&#x1F;") and whether it is valid without a DTD.
func refLen(b []byte) (int, bool) {
	semi := bytes.IndexByte(b, ';')
	if semi < 2 {
		return 0, false
	}
	body := b[1:semi]
	if body[0] == '#' {
		var r uint64
		var err error
		if len(body) > 1 && body[1] == 'x' {
			r, err = strconv.ParseUint(string(body[2:]), 16, 32)
		} else {
			r, err = strconv.ParseUint(string(body[1:]), 10, 32)
		}
		// encoding/xml reads a reference to a surrogate as U+FFFD.
		if err != nil || !(xmlChar(rune(r)) || r >= 0xD800 && r <= 0xDFFF) {
			return 0, false
		}
		return semi + 1, true
	}
	switch string(body) {
	case "lt", "gt", "amp", "apos", "quot":
		return semi + 1, true
	}
	return 0, false
}

// xmlChar reports whether r is in the XML 1.0 Char production.
func xmlChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		(r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
}

// space skips XML white space and reports whether there was any.
func (s *xmlScanner) space() bool {
	b, i := s.b, s.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	spaced := i > s.i
	s.i = i
	return spaced
}

// name reads an element or attribute name at s.i, or returns nil: at most
// one colon (prefix:local), as XML namespaces and encoding/xml want.
func (s *xmlScanner) name() []byte { return s.readName(true) }

// piTarget reads a processing instruction's target: a name in which
// encoding/xml allows any number of colons.
func (s *xmlScanner) piTarget() []byte { return s.readName(false) }

// readName reads an XML name at s.i, or returns nil. (Locals, not s.i, in
// the loops: this is the scanner's hottest code.)
func (s *xmlScanner) readName(oneColon bool) []byte {
	b, i := s.b, s.i
	if i >= len(b) || nameClass[b[i]]&nameStart == 0 {
		return nil
	}
	start := i
	seen := nameClass[b[i]]
	for i++; i < len(b) && nameClass[b[i]] != 0; i++ {
		seen |= nameClass[b[i]]
	}
	name := b[start:i]
	if seen&(nameColon|nameHigh) != 0 {
		c := bytes.IndexByte(name, ':')
		if oneColon && c >= 0 && bytes.IndexByte(name[c+1:], ':') >= 0 {
			return nil
		}
		// nonASCIIName reads the name as an element's: colons, allowed
		// here, become a name character of the same classes.
		if seen&nameHigh != 0 && !nonASCIIName(bytes.ReplaceAll(name, []byte(":"), []byte("_"))) {
			return nil
		}
	}
	s.i = i
	return name
}

// nonASCIIName checks a name with bytes above 0x7F against the XML 1.0
// character classes by letting encoding/xml (etree's parser) read it. Such
// names are rare in Pacemaker's messages, so the tables are not repeated
// here. Invalid UTF-8 passes: the scan reports it as such.
func nonASCIIName(name []byte) bool {
	if !utf8.Valid(name) {
		return true
	}
	doc := make([]byte, 0, len(name)+3)
	doc = append(append(append(doc, '<'), name...), '/', '>')
	_, err := xml.NewDecoder(bytes.NewReader(doc)).RawToken()
	return err == nil
}

const (
	nameStart = 1 // may start a name
	nameChar  = 2 // may continue a name
	nameColon = 4 // ':', with nameStart
	nameHigh  = 8 // a byte of a multi-byte UTF-8 sequence, with nameStart
)

// nameClass classifies bytes for XML names; names with bytes of multi-byte
// UTF-8 sequences are checked further by nonASCIIName.
var nameClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		switch {
		case c == ':':
			t[c] = nameStart | nameColon
		case c >= 0x80:
			t[c] = nameStart | nameHigh
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_':
			t[c] = nameStart
		case c >= '0' && c <= '9', c == '-', c == '.':
			t[c] = nameChar
		}
	}
	return t
}()

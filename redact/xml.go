package redact

import (
	"bytes"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// attr is one attribute of a start tag: its name and where its value lies.
type attr struct {
	name       []byte
	start, end int // value bytes, escaped, in the text
	done       bool
}

// scanner redacts XML text in place, one start tag at a time: no tree is
// built. It tolerates text that is cut short or not XML at all, changing
// only quoted attribute values and text between tags.
type scanner struct {
	m  *matcher
	ph *placeholders

	stack   []bool // per open element: inside a fence device's parameters
	attrs   []attr
	pending []attr              // change-attr values: secret if a secret value of this text
	learned map[string]struct{} // secret values seen in this text, unescaped
	unesc   []byte
	// inStonith is the last start tag's context, for its children
	inStonith bool
	n         int // values redacted in this text
}

// redact redacts text in place; stonith says the whole text is a fence
// device's (a message of the fencer). It returns the values redacted.
func (s *scanner) redact(text []byte, stonith bool) int {
	s.stack = append(s.stack[:0], stonith)
	s.pending = s.pending[:0]
	clear(s.learned)
	s.n = 0
	for i := 0; i < len(text); {
		lt := bytes.IndexByte(text[i:], '<')
		if lt < 0 {
			s.literals(text[i:])
			break
		}
		s.literals(text[i : i+lt])
		i += lt
		rest := text[i:]
		switch {
		case bytes.HasPrefix(rest, []byte("<!--")):
			i = skipPast(text, i+4, "-->")
		case bytes.HasPrefix(rest, []byte("<![CDATA[")):
			end := bytes.Index(text[i+9:], []byte("]]>"))
			if end < 0 {
				s.literals(text[i+9:])
				return s.finish(text)
			}
			s.literals(text[i+9 : i+9+end])
			i += 9 + end + 3
		case bytes.HasPrefix(rest, []byte("<?")), bytes.HasPrefix(rest, []byte("<!")):
			i = skipPast(text, i+2, ">")
		case bytes.HasPrefix(rest, []byte("</")):
			if len(s.stack) > 1 {
				s.stack = s.stack[:len(s.stack)-1]
			}
			i = skipPast(text, i+2, ">")
		default:
			i = s.startTag(text, i+1)
		}
	}
	return s.finish(text)
}

// finish redacts the change-attr values that turned out to be secrets.
func (s *scanner) finish(text []byte) int {
	for _, a := range s.pending {
		if _, ok := s.learned[string(s.unescape(text[a.start:a.end]))]; ok {
			s.secret(text, a)
		}
	}
	return s.n
}

func skipPast(text []byte, i int, end string) int {
	j := bytes.Index(text[i:], []byte(end))
	if j < 0 {
		return len(text)
	}
	return i + j + len(end)
}

func space(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// startTag reads the start tag whose name begins at i, redacts its secrets
// and returns where the tag ends.
func (s *scanner) startTag(text []byte, i int) int {
	j := i
	for j < len(text) && !space(text[j]) && text[j] != '>' && text[j] != '/' {
		j++
	}
	elem := text[i:j]
	s.attrs = s.attrs[:0]
	closed, end := false, len(text)
	for j < len(text) {
		c := text[j]
		if space(c) {
			j++
			continue
		}
		if c == '>' {
			end = j + 1
			break
		}
		if c == '/' {
			if j+1 < len(text) && text[j+1] == '>' {
				closed, end = true, j+2
				break
			}
			j++
			continue
		}
		// name = "value"
		ns := j
		for j < len(text) && text[j] != '=' && !space(text[j]) && text[j] != '>' && text[j] != '/' {
			j++
		}
		name := text[ns:j]
		for j < len(text) && space(text[j]) {
			j++
		}
		if j >= len(text) || text[j] != '=' {
			continue // a name without a value: not XML, go on
		}
		j++
		for j < len(text) && space(text[j]) {
			j++
		}
		if j >= len(text) {
			break
		}
		q := text[j]
		if q != '"' && q != '\'' {
			continue
		}
		vs := j + 1
		ve := bytes.IndexByte(text[vs:], q)
		if ve < 0 {
			ve = len(text) // cut short: the value runs to the end
		} else {
			ve += vs
		}
		s.attrs = append(s.attrs, attr{name: name, start: vs, end: ve})
		j = min(ve+1, len(text))
	}
	s.tag(text, elem)
	if !closed {
		s.stack = append(s.stack, s.inStonith)
	}
	return end
}

// tag decides which of the start tag's attributes are secrets.
func (s *scanner) tag(text, elem []byte) {
	parent := s.stack[len(s.stack)-1]
	st := parent
	var nameAttr, valueAttr = -1, -1
	for k, a := range s.attrs {
		v := text[a.start:a.end]
		switch string(a.name) {
		case "class", "lrmd_class":
			st = st || string(v) == "stonith"
		case "agent":
			st = st || bytes.HasPrefix(v, []byte("fence_"))
		case "name":
			nameAttr = k
		case "value":
			valueAttr = k
		}
	}
	s.inStonith = st
	for k := range s.attrs {
		a := &s.attrs[k]
		if s.m.secretName(a.name, st) {
			s.secret(text, *a)
			a.done = true
		}
	}
	if nameAttr >= 0 && valueAttr >= 0 && !s.attrs[valueAttr].done {
		n := s.attrs[nameAttr]
		if s.m.secretName(s.unescape(text[n.start:n.end]), st) {
			s.secret(text, s.attrs[valueAttr])
			s.attrs[valueAttr].done = true
		} else if string(elem) == "change-attr" {
			s.pending = append(s.pending, s.attrs[valueAttr])
		}
	}
	for _, a := range s.attrs {
		if !a.done {
			s.literals(text[a.start:a.end])
		}
	}
}

// secret replaces an attribute value with its placeholder.
func (s *scanner) secret(text []byte, a attr) {
	v := text[a.start:a.end]
	if len(v) == 0 || IsPlaceholder(string(v)) {
		return
	}
	u := string(s.unescape(v)) // a copy: fill overwrites v
	if s.learned == nil {
		s.learned = make(map[string]struct{})
	}
	s.learned[u] = struct{}{}
	s.ph.fill(v, []byte(u))
	s.n++
}

// literals replaces the user's literal secrets in b (an attribute value or
// text between tags) and returns how many it replaced.
func (s *scanner) literals(b []byte) int {
	n0 := s.n
	for _, l := range s.m.values {
		for _, f := range l.forms {
			for i := 0; ; {
				j := bytes.Index(b[i:], f)
				if j < 0 {
					break
				}
				s.ph.fill(b[i+j:i+j+len(f)], []byte(l.value))
				s.n++
				i += j + len(f)
			}
		}
	}
	return s.n - n0
}

// unescape returns v with XML's references resolved (pcmk.Unescape's rules),
// in a scratch buffer valid until the next call; v itself when it has none.
func (s *scanner) unescape(v []byte) []byte {
	if bytes.IndexByte(v, '&') < 0 {
		return v
	}
	s.unesc = pcmk.AppendUnescaped(s.unesc[:0], v)
	return s.unesc
}

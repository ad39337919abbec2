package replay

import (
	"bytes"
	"html"
)

// rootAttr returns the unescaped value of attribute name on the root element of xml, or
// "" when it has none. It reads only the root's start tag; the text was checked by
// decode already, and anything it cannot read gives "".
func rootAttr(xml []byte, name string) string {
	i := bytes.IndexByte(xml, '<')
	for i >= 0 && i+1 < len(xml) && (xml[i+1] == '?' || xml[i+1] == '!') {
		// an XML declaration or comment before the root
		j := bytes.IndexByte(xml[i+1:], '<')
		if j < 0 {
			return ""
		}
		i += 1 + j
	}
	if i < 0 {
		return ""
	}
	p := xml[i+1:]
	// skip the element name
	n := 0
	for n < len(p) && !isSpace(p[n]) && p[n] != '>' && p[n] != '/' {
		n++
	}
	p = p[n:]
	for {
		for len(p) > 0 && isSpace(p[0]) {
			p = p[1:]
		}
		if len(p) == 0 || p[0] == '>' || p[0] == '/' {
			return ""
		}
		eq := bytes.IndexByte(p, '=')
		if eq < 0 {
			return ""
		}
		attr := bytes.TrimSpace(p[:eq])
		p = bytes.TrimLeft(p[eq+1:], " \t\r\n")
		if len(p) == 0 || (p[0] != '"' && p[0] != '\'') {
			return ""
		}
		q := p[0]
		end := bytes.IndexByte(p[1:], q)
		if end < 0 {
			return ""
		}
		if string(attr) == name {
			return html.UnescapeString(string(p[1 : 1+end]))
		}
		p = p[end+2:]
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

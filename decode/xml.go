package decode

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/beevik/etree"
)

// unescape replaces the references in an attribute value (already checked
// by the scanner) and returns it as a string.
func unescape(v []byte) string {
	if bytes.IndexByte(v, '&') < 0 {
		return string(v)
	}
	out := make([]byte, 0, len(v))
	for len(v) > 0 {
		amp := bytes.IndexByte(v, '&')
		if amp < 0 {
			out = append(out, v...)
			break
		}
		out = append(out, v[:amp]...)
		v = v[amp:]
		n, ok := refLen(v)
		if !ok {
			out = append(out, '&')
			v = v[1:]
			continue
		}
		body := v[1 : n-1]
		switch string(body) {
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
			if body[1] == 'x' {
				r, _ = strconv.ParseUint(string(body[2:]), 16, 32)
			} else {
				r, _ = strconv.ParseUint(string(body[1:]), 10, 32)
			}
			out = utf8.AppendRune(out, rune(r))
		}
		v = v[n:]
	}
	return string(out)
}

// An interner hands out one string per distinct value of the fields that
// take few values (element names, message types, daemon names, operations),
// so that a message does not allocate each of them anew. A nil *interner
// allocates.
type interner map[string]string

// maxInterned bounds an interner; a full one starts over.
const maxInterned = 4096

func (in *interner) get(b []byte) string {
	if in == nil || len(b) > 64 || bytes.IndexByte(b, '&') >= 0 {
		return unescape(b)
	}
	if s, ok := (*in)[string(b)]; ok { // no allocation for the lookup
		return s
	}
	if *in == nil || len(*in) >= maxInterned {
		*in = interner{}
	}
	s := string(b)
	(*in)[s] = s
	return s
}

// setXMLFields fills the message's XML-derived fields from the root
// element (docs/protocol.md 8.1), taking the few-valued ones from in.
func (m *Message) setXMLFields(root []byte, attrs []xmlAttr, in *interner) {
	m.Root = in.get(root)
	var op, opPrio, clientID, async, rc, lrmdExecRC, status, origin, function string
	prio := 99
	for _, a := range attrs {
		switch string(a.name) {
		case "t":
			m.T = in.get(a.value)
		case "subt":
			m.Subt = in.get(a.value)
		case "crm_sys_from":
			m.SysFrom = in.get(a.value)
		case "crm_sys_to":
			m.SysTo = in.get(a.value)
		case "crm_host_to":
			m.HostTo = unescape(a.value)
		case "src":
			m.Src = unescape(a.value)
		case "reference":
			m.Reference = unescape(a.value)
		case "cib_callid", "st_callid", "lrmd_callid":
			m.CallID = unescape(a.value)
		case "cib_clientid", "st_clientid", "lrmd_clientid":
			clientID = unescape(a.value)
		case "cib_async_id", "st_async_id", "lrmd_async_id":
			async = unescape(a.value)
		case "cib_rc", "st_rc", "lrmd_rc", "rc":
			rc = in.get(a.value)
		case "lrmd_exec_rc":
			lrmdExecRC = unescape(a.value)
		case "status":
			status = unescape(a.value)
		case "origin", "lrmd_origin":
			origin = unescape(a.value)
		case "function":
			function = unescape(a.value)
		default:
			if p := opAttrPriority(a.name); p < prio {
				prio, opPrio = p, in.get(a.value)
			}
		}
	}
	op = opPrio
	if (m.T == "cib_notify" || m.T == "st_notify") && m.Subt != "" {
		op = m.Subt
	}
	if op == "" {
		op = m.Root
	}
	m.Op = op
	m.ClientID = firstNonEmpty(clientID, async)
	isAck := m.Root == "ack" || m.Root == "nack"
	if isAck {
		m.RC = firstNonEmpty(rc, status)
		m.Origin = firstNonEmpty(origin, function)
	} else {
		m.RC = firstNonEmpty(rc, lrmdExecRC)
		m.Origin = origin
	}
}

// opAttrPriority ranks the attributes that name an operation; lower wins.
func opAttrPriority(name []byte) int {
	switch string(name) {
	case "cib_op":
		return 0
	case "st_op":
		return 1
	case "lrmd_op":
		return 2
	case "crm_task":
		return 3
	case "task":
		return 4
	}
	return 99
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// strictXML parses text with etree, as Options.StrictXML asks.
func strictXML(text []byte) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(text); err != nil {
		return err
	}
	roots := 0
	for _, c := range doc.Child {
		if _, ok := c.(*etree.Element); ok {
			roots++
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements", roots)
	}
	return nil
}

// Indent returns text pretty-printed with two spaces per level, or text
// itself if etree cannot parse it.
func Indent(text []byte) []byte {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(text); err != nil {
		return text
	}
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return text
	}
	return bytes.TrimRight(out, "\n")
}

package replay

import (
	"bytes"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// A Session is the state a replayed connection learns from the daemon: values it hands
// out at sign-on that later requests quote (the CIB's cib_clientid, echoed as
// cib_async_id; the fencer's st_clientid; the executor's lrmd_clientid). The recorded
// requests carry the values of the recording; Rewrite puts in the live ones.
type Session struct {
	subst [][2][]byte // recorded value, live value; in the order learnt
}

// minLearnt is the shortest value Learn substitutes: client ids are UUIDs, and short
// values (call ids, small numbers) would match unrelated attributes.
const minLearnt = 8

// Learn compares a recorded reply with the live reply to the same request and
// remembers the client id the daemon handed out (decode's ClientID: cib_clientid,
// st_clientid or lrmd_clientid) when it differs.
func (s *Session) Learn(recorded, live *decode.Message) {
	if recorded == nil || live == nil {
		return
	}
	old, cur := recorded.ClientID, live.ClientID
	if old == "" || cur == "" || old == cur || len(old) < minLearnt {
		return
	}
	o, n := attrEscape(old), attrEscape(cur)
	for i, p := range s.subst {
		if bytes.Equal(p[0], o) {
			s.subst[i][1] = n
			return
		}
	}
	s.subst = append(s.subst, [2][]byte{o, n})
}

// Values returns the learnt substitutions, recorded value to live value.
func (s *Session) Values() map[string]string {
	m := make(map[string]string, len(s.subst))
	for _, p := range s.subst {
		m[string(p[0])] = string(p[1])
	}
	return m
}

// Rewrite returns xml with every attribute value equal to a learnt recorded value
// replaced by the live one, in any element. Text content and partial matches are left
// alone. It returns xml itself when nothing changes.
func (s *Session) Rewrite(xml []byte) []byte {
	out := xml
	for _, p := range s.subst {
		for _, q := range []byte{'"', '\''} {
			old := quoted(q, p[0])
			if !bytes.Contains(out, old) {
				continue
			}
			out = bytes.ReplaceAll(out, old, quoted(q, p[1]))
		}
	}
	return out
}

// quoted returns ="v" (or ='v'): an attribute value, whole.
func quoted(q byte, v []byte) []byte {
	b := make([]byte, 0, len(v)+3)
	b = append(b, '=', q)
	b = append(b, v...)
	return append(b, q)
}

// attrEscape escapes a value as Pacemaker writes attribute values.
func attrEscape(s string) []byte {
	var b bytes.Buffer
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteByte(c)
		}
	}
	return b.Bytes()
}

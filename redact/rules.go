package redact

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Rules say what is secret. The zero value holds the default names only.
type Rules struct {
	// Names are more attribute (or nvpair) names to treat as secret:
	// regular expressions matched anywhere in the name, without regard to
	// case.
	Names []string
	// Values are literal secrets, redacted wherever they appear in an
	// attribute value or in text, in plain or XML-escaped form.
	Values []string
	// NoDefaults leaves out the default names.
	NoDefaults bool
}

// defaultWords are the default name fragments, matched anywhere in a name.
var defaultWords = []string{"passw", "secret", "token", "community", "login"}

// notSecret are names the "key" rule would catch that Pacemaker uses for
// operation and transition identities, which decode and replay need.
var notSecret = map[string]bool{"transition-key": true, "operation_key": true}

// matcher is compiled Rules.
type matcher struct {
	defaults bool
	names    []*regexp.Regexp
	values   []literal
	lower    []byte // scratch for lower-casing names
}

// literal is one secret value in the forms it may take in XML.
type literal struct {
	value string   // as given
	forms [][]byte // as written: plain, then escaped when different
}

func (r Rules) compile() (*matcher, error) {
	m := &matcher{defaults: !r.NoDefaults}
	for _, n := range r.Names {
		re, err := regexp.Compile("(?i)" + n)
		if err != nil {
			return nil, fmt.Errorf("redact name pattern %q: %w", n, err)
		}
		m.names = append(m.names, re)
	}
	for _, v := range r.Values {
		if v == "" {
			return nil, fmt.Errorf("redact value: empty")
		}
		l := literal{value: v, forms: [][]byte{[]byte(v)}}
		if e := escape(v); e != v {
			l.forms = append(l.forms, []byte(e))
		}
		m.values = append(m.values, l)
	}
	return m, nil
}

// secretName reports whether an attribute (or nvpair) called name holds a
// secret; stonith says whether it is a fence device's parameter.
func (m *matcher) secretName(name []byte, stonith bool) bool {
	if m.defaults && m.defaultName(name, stonith) {
		return true
	}
	for _, re := range m.names {
		if re.Match(name) {
			return true
		}
	}
	return false
}

func (m *matcher) defaultName(name []byte, stonith bool) bool {
	m.lower = append(m.lower[:0], name...)
	l := m.lower
	for i, c := range l {
		if 'A' <= c && c <= 'Z' {
			l[i] = c + 'a' - 'A'
		}
	}
	if notSecret[string(l)] {
		return false
	}
	for _, w := range defaultWords {
		if bytes.Contains(l, []byte(w)) {
			return true
		}
	}
	if bytes.HasSuffix(l, []byte("key")) || keyWord(l) {
		return true
	}
	return stonith && bytes.Contains(l, []byte("user")) && !protocolName(l)
}

// protocolName reports whether a (lower-case) name is one of Pacemaker's
// own message attributes (cib_user, lrmd_rsc_userdata_str), not a fence
// device's parameter.
func protocolName(l []byte) bool {
	for _, p := range []string{"cib_", "crm_", "lrmd_", "st_", "update-"} {
		if bytes.HasPrefix(l, []byte(p)) {
			return true
		}
	}
	return false
}

// keyWord reports whether "key" is a word of name, between separators.
func keyWord(name []byte) bool {
	for i := 0; ; {
		j := bytes.Index(name[i:], []byte("key"))
		if j < 0 {
			return false
		}
		j += i
		before := j == 0 || !alnum(name[j-1])
		after := j+3 == len(name) || !alnum(name[j+3])
		if before && after {
			return true
		}
		i = j + 1
	}
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// Describe returns the rules for the capture's section header: the names,
// and how many literal values (never the values themselves).
func (r Rules) Describe() string {
	var parts []string
	if !r.NoDefaults {
		parts = append(parts, "default names")
	}
	for _, n := range r.Names {
		parts = append(parts, "name /"+n+"/")
	}
	if len(r.Values) > 0 {
		parts = append(parts, fmt.Sprintf("%d literal values", len(r.Values)))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}

// escape writes v as it would appear escaped in an XML attribute value.
func escape(v string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&apos;").Replace(v)
}

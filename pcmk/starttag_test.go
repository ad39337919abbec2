package pcmk

import (
	"strings"
	"testing"
)

func TestStartTag(t *testing.T) {
	for _, tc := range []struct {
		desc, text, root string
		attrs            []string // name=value, values raw
	}{
		{"attributes", `<a x="1" y='2'/>`, "a", []string{"x=1", "y=2"}},
		{"children ignored", `<a x="1"><b y="2"/></a>`, "a", []string{"x=1"}},
		{"declaration, comment and doctype first", "<?xml version=\"1.0\"?>\n<!-- c --><!DOCTYPE a><a x=\"1\">", "a", []string{"x=1"}},
		{"space around =", "<c  cib_op = 'q' >", "c", []string{"cib_op=q"}},
		{"> and = inside a value", `<c x="a>b=c" st_op="q"/>`, "c", []string{"x=a>b=c", "st_op=q"}},
		{"raw references", `<a x="&lt;"/>`, "a", []string{"x=&lt;"}},
		{"unquoted value stops", `<a x=1 y="2">`, "a", nil},
		{"unterminated value stops", `<a x="1" y="2`, "a", []string{"x=1"}},
		{"no attributes", `<ping/>`, "ping", nil},
		{"not XML", `hello`, "", nil},
		{"empty", ``, "", nil},
		{"unterminated comment", `<!-- <a x="1"/>`, "", nil},
		{"no name", `< a/>`, "", nil},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			tag := ReadStartTag([]byte(tc.text))
			var attrs []string
			for tag.Next() {
				attrs = append(attrs, string(tag.Name())+"="+string(tag.Value()))
			}
			if string(tag.Root()) != tc.root || strings.Join(attrs, " ") != strings.Join(tc.attrs, " ") {
				t.Errorf("root %q, attributes %q; want %q, %q", tag.Root(), attrs, tc.root, tc.attrs)
			}
			if tag.Next() {
				t.Error("Next after the end")
			}
		})
	}
}

func TestRootAttr(t *testing.T) {
	for _, tt := range []struct {
		desc, xml, name, want string
	}{
		{"double quotes", `<a x="1" y="2"/>`, "y", "2"},
		{"single quotes", `<a x='1'/>`, "x", "1"},
		{"escaped", `<a x="&lt;&amp;&quot;"/>`, "x", `<&"`},
		{"missing", `<a x="1"><b y="2"/></a>`, "y", ""},
		{"declaration first", `<?xml version="1.0"?><a x="1"/>`, "x", "1"},
		{"not the value of another attribute", `<a x="y=&quot;3&quot;" y="4"/>`, "y", "4"},
		{"garbage", `<a x=1`, "x", ""},
		{"empty", ``, "x", ""},
	} {
		if got := RootAttr([]byte(tt.xml), tt.name); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.desc, got, tt.want)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                     "plain",
		"&lt;&gt;&amp;&apos;&quot;": `<>&'"`,
		"x&#33;&#x21;y":             "x!!y",
		"&#xe9;t&#233;":             "été",
		"a & b":                     "a & b",
		"&unknown; &#xZZ; &#; &x":   "&unknown; &#xZZ; &#; &x",
		"&amp;lt;":                  "&lt;",
		"&":                         "&",
	} {
		if got := Unescape([]byte(in)); got != want {
			t.Errorf("Unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// pacemakerMessage is a dialect B message carrying text as it is.
func pacemakerMessage(id int32, text string) []byte {
	return envelopeB(id, []byte(text), 0, 0)
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		desc string
		msg  []byte
		want string
	}{
		{"element and operation", pacemakerMessage(1, "<lrmd_command lrmd_op=\"x\"/>"), "<lrmd_command> x"},
		{"operation by rank", pacemakerMessage(1, "<c task='t' xcib_op=\"no\" cib_op=\"cib_query\">"), "<c> cib_query"},
		{"operation outside the start tag", pacemakerMessage(1, "<c><d cib_op=\"x\"/></c>"), "<c>"},
		{"unprintable operation", pacemakerMessage(1, "<c cib_op=\"a b\"/>"), "<c>"},
		{"name inside another value", pacemakerMessage(1, "<c x=\" cib_op='zz'\" cib_op=\"q\">"), "<c> q"},
		{"space around =", pacemakerMessage(1, "<c  cib_op = 'q' >"), "<c> q"},
		{"> inside a value", pacemakerMessage(1, "<c x=\"a>b\" st_op=\"q\"/>"), "<c> q"},
		{"no attributes", pacemakerMessage(1, "<ping/>"), "<ping>"},
		{"dialect A", envelopeA(1, []byte("<ping/>\x00"), 8, 0), "<ping>"},
		{"name too long", pacemakerMessage(1, "<"+strings.Repeat("n", 64)+"/>"), ""},
		{"bzip2", pacemakerMessage(1, "BZh41AY&SY"), "(bzip2)"},
		{"not XML", pacemakerMessage(1, "hello"), ""},
		{"header only", pacemakerMessage(1, "")[:40], ""},
		{"not Pacemaker", append(make([]byte, 40), "<x>"...), ""},
	} {
		if got := Describe(tc.msg); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.desc, got, tc.want)
		}
	}
}

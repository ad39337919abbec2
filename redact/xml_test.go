package redact

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
)

var testKey = []byte("a fixed key for tests")

// redactString redacts one text with a fresh scanner.
func redactString(t *testing.T, rules Rules, text string, stonith bool) (string, int) {
	t.Helper()
	m, err := rules.compile()
	if err != nil {
		t.Fatal(err)
	}
	s := scanner{m: m, ph: newPlaceholders(testKey)}
	b := []byte(text)
	n := s.redact(b, stonith)
	return string(b), n
}

var placeholderRE = regexp.MustCompile(`^\*[a-z0-9]*\*$|^\*$`)

func TestRedactText(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rules   Rules
		stonith bool
		in      string
		secrets []string // must be gone
		kept    []string // must stay
		n       int
	}{
		{name: "nvpair", in: `<nvpair id="p1" name="passwd" value="s3cr3t"/><nvpair name="ip" value="10.0.0.1"/>`,
			secrets: []string{"s3cr3t"}, kept: []string{`name="passwd"`, "10.0.0.1"}, n: 1},
		{name: "db_password", in: `<nvpair name="db_password" value="hunter22"/>`, secrets: []string{"hunter22"}, n: 1},
		{name: "attribute", in: `<attributes passwd="pw1234" ipaddr="1.2.3.4" CRM_meta_timeout="20000"/>`,
			secrets: []string{"pw1234"}, kept: []string{"1.2.3.4", "20000"}, n: 1},
		{name: "single quotes", in: `<a api_key='k-123456'></a>`, secrets: []string{"k-123456"}, n: 1},
		{name: "keyboard kept", in: `<a keyboard="us" transition-key="1:2:3:abc" operation_key="x_start_0"/>`,
			kept: []string{"us", "1:2:3:abc", "x_start_0"}},
		{name: "user outside stonith kept", in: `<primitive class="ocf"><instance_attributes><nvpair name="user" value="alice"/></instance_attributes></primitive>`,
			kept: []string{"alice"}},
		{name: "user under stonith", in: `<primitive class="stonith" type="fence_ipmilan"><instance_attributes><nvpair name="user" value="alice"/><nvpair name="login" value="admin"/></instance_attributes></primitive><nvpair name="user" value="bob"/>`,
			secrets: []string{"alice", "admin"}, kept: []string{"bob"}, n: 2},
		{name: "fencer message", stonith: true, in: `<stonith_command st_op="st_device_register"><attributes user="carol" ip="h"/></stonith_command>`,
			secrets: []string{"carol"}, n: 1},
		{name: "fence agent", in: `<st_device_id agent="fence_xvm"><attributes username="dave"/></st_device_id>`,
			secrets: []string{"dave"}, n: 1},
		{name: "change-attr resolved by change-result",
			in:      `<diff format="2"><change operation="modify" path="/cib/configuration/resources/primitive[@id='f']/instance_attributes[@id='f-ia']/nvpair[@id='f-pw']"><change-list><change-attr name="value" operation="set" value="newpw99"/></change-list><change-result><nvpair id="f-pw" name="passwd" value="newpw99"/></change-result></change><change operation="modify" path="/cib"><change-list><change-attr name="num_updates" operation="set" value="5"/></change-list></change></diff>`,
			secrets: []string{"newpw99"}, kept: []string{`value="5"`}, n: 2},
		{name: "change-attr of a secret name", in: `<change-attr name="passwd" operation="set" value="zzz9"/>`, secrets: []string{"zzz9"}, n: 1},
		{name: "literal anywhere", rules: Rules{Values: []string{"Tr0ub4dor"}},
			in: `<a desc="pw is Tr0ub4dor here">output: Tr0ub4dor<![CDATA[Tr0ub4dor]]></a>`, secrets: []string{"Tr0ub4dor"}, n: 3},
		{name: "literal escaped", rules: Rules{Values: []string{`a&b"c`}},
			in: `<a x="a&amp;b&quot;c"/>`, secrets: []string{"a&amp;b&quot;c"}, n: 1},
		{name: "literal not in markup", rules: Rules{Values: []string{"nvpair"}},
			in: `<nvpair name="x" value="nvpair"/>`, kept: []string{"<nvpair name"}, n: 1},
		{name: "user pattern", rules: Rules{Names: []string{"^ipaddr$"}}, in: `<a ipaddr="10.1.1.1" ipaddr6="::1"/>`,
			secrets: []string{"10.1.1.1"}, kept: []string{"::1"}, n: 1},
		{name: "cut short", in: `<nvpair name="x" value="1"/><a passwd="abcdefgh`, secrets: []string{"abcdefgh"}, n: 1},
		{name: "comment skipped", in: `<!-- passwd="notavalue" --><a/>`, kept: []string{"notavalue"}},
		{name: "not xml", in: "\x00\x01binary passwd=\"x\xff", kept: []string{"x\xff"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, n := redactString(t, tc.rules, tc.in, tc.stonith)
			if len(out) != len(tc.in) {
				t.Fatalf("length %d, was %d", len(out), len(tc.in))
			}
			for _, s := range tc.secrets {
				if strings.Contains(out, s) {
					t.Errorf("%q still in %s", s, out)
				}
			}
			for _, s := range tc.kept {
				if !strings.Contains(out, s) {
					t.Errorf("%q lost from %s", s, out)
				}
			}
			if n != tc.n {
				t.Errorf("redacted %d values, want %d: %s", n, tc.n, out)
			}
		})
	}
}

func TestPlaceholders(t *testing.T) {
	in := `<a passwd="samesecret"/><b secret="samesecret"/><c token="othersecret"/><d passwd="x"/><e passwd="xy"/>`
	out, _ := redactString(t, Rules{}, in, false)
	vals := regexp.MustCompile(`="([^"]*)"`).FindAllStringSubmatch(out, -1)
	if len(vals) != 5 {
		t.Fatalf("values %v", vals)
	}
	for _, v := range vals {
		if !placeholderRE.MatchString(v[1]) || !IsPlaceholder(v[1]) {
			t.Errorf("%q is not a placeholder", v[1])
		}
	}
	if vals[0][1] != vals[1][1] {
		t.Errorf("one secret, two placeholders: %q %q", vals[0][1], vals[1][1])
	}
	if vals[2][1][:10] == vals[0][1] {
		t.Errorf("two secrets, one placeholder %q", vals[0][1])
	}
	if vals[3][1] != "*" || vals[4][1] != "**" {
		t.Errorf("short placeholders %q %q", vals[3][1], vals[4][1])
	}
	// the same in a second text (another message), and the same for an escaped form
	again, _ := redactString(t, Rules{}, `<z passwd="samesecret"/>`, false)
	if !strings.Contains(again, vals[0][1]) {
		t.Errorf("second message: %s, want %s", again, vals[0][1])
	}
	esc, _ := redactString(t, Rules{}, `<z passwd="a&amp;b"/><y passwd="a&#38;b"/>`, false)
	ev := regexp.MustCompile(`="([^"]*)"`).FindAllStringSubmatch(esc, -1)
	if len(ev[0][1]) != len("a&amp;b") || len(ev[1][1]) != len("a&#38;b") || ev[0][1][1:5] != ev[1][1][1:5] {
		t.Errorf("escaped forms of one value: %q %q", ev[0][1], ev[1][1])
	}
	// another key, other placeholders
	m, _ := Rules{}.compile()
	s := scanner{m: m, ph: newPlaceholders(nil)}
	b := []byte(`<a passwd="samesecret"/>`)
	s.redact(b, false)
	if bytes.Contains(b, []byte(vals[0][1])) {
		t.Errorf("a random key gave the test key's placeholder %s", b)
	}
	for _, v := range []string{"", "a*", "*A*", "*a-b*", "x"} {
		if IsPlaceholder(v) {
			t.Errorf("IsPlaceholder(%q) = true", v)
		}
	}
}

func TestLongPlaceholder(t *testing.T) {
	long := strings.Repeat("p", 200)
	out, _ := redactString(t, Rules{}, `<a passwd="`+long+`"/>`, false)
	v := out[len(`<a passwd="`) : len(out)-3]
	if len(v) != 200 || !IsPlaceholder(v) {
		t.Errorf("placeholder %q", v)
	}
}

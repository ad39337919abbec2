package replay

import (
	"fmt"
	"strings"
	"testing"
)

func TestCompareXML(t *testing.T) {
	tests := []struct {
		desc           string
		recorded, live string
		want           []string // Diff.String() of each difference
	}{
		{"equal", `<a x="1"><b/></a>`, `<a x="1"><b/></a>`, nil},
		{"attribute order and whitespace", `<a x="1" y="2">` + "\n  <b/>\n" + `</a>`, `<a y="2" x="1"><b/></a>`, nil},
		{"attribute changed", `<a x="1"/>`, `<a x="2"/>`, []string{`~ /a/@x: recorded "1", live "2"`}},
		{"attribute removed and added", `<a x="1"/>`, `<a y="1"/>`,
			[]string{`- /a/@x: recorded "1", not live`, `+ /a/@y: live "1", not recorded`}},
		{"masked attribute", `<a epoch="1" cib-last-written="Mon"/>`, `<a epoch="2"/>`, nil},
		{"text", `<a>hello</a>`, `<a> bye </a>`, []string{`~ /a/text(): recorded "hello", live "bye"`}},
		{"root name", `<a/>`, `<b/>`, []string{`~ /: recorded "a", live "b"`}},
		{"element added among siblings with ids: one difference, no shift",
			`<r><n id="1"/><n id="2"/><n id="3"/></r>`, `<r><n id="1"/><n id="new"/><n id="2"/><n id="3"/></r>`,
			[]string{`+ /r/n[@id='new']: live <n id="new"/>, not recorded`}},
		{"element removed",
			`<r><n id="1"/><n id="2"/></r>`, `<r><n id="2"/></r>`,
			[]string{`- /r/n[@id='1']: recorded <n id="1"/>, not live`}},
		{"changed element without id compared in place",
			`<r><a/><b v="1"/><c/></r>`, `<r><a/><b v="2"/><c/></r>`,
			[]string{`~ /r/b/@v: recorded "1", live "2"`}},
		{"siblings without ids by position",
			`<r><b v="1"/><b v="2"/></r>`, `<r><b v="1"/><b v="3"/></r>`,
			[]string{`~ /r/b[2]/@v: recorded "2", live "3"`}},
		{"deep path by id",
			`<cib><configuration><crm_config><cluster_property_set id="o"><nvpair id="o-p" value="1"/></cluster_property_set></crm_config></configuration></cib>`,
			`<cib><configuration><crm_config><cluster_property_set id="o"><nvpair id="o-p" value="2"/></cluster_property_set></crm_config></configuration></cib>`,
			[]string{`~ /cib/configuration/crm_config/cluster_property_set[@id='o']/nvpair[@id='o-p']/@value: recorded "1", live "2"`}},
		{"masked element contents do not show in an added element",
			`<r/>`, `<r><cib epoch="3" x="1"/></r>`, []string{`+ /r/cib: live <cib x="1"/>, not recorded`}},
	}
	for _, tt := range tests {
		d, err := CompareXML([]byte(tt.recorded), []byte(tt.live), DefaultMask())
		if err != nil {
			t.Errorf("%s: %v", tt.desc, err)
			continue
		}
		var got []string
		for _, x := range d {
			got = append(got, x.String())
		}
		if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
			t.Errorf("%s:\n got %q\nwant %q", tt.desc, got, tt.want)
		}
	}
}

func TestCompareXMLErrors(t *testing.T) {
	if _, err := CompareXML([]byte(`<a`), []byte(`<a/>`), nil); err == nil || !strings.Contains(err.Error(), "recorded") {
		t.Errorf("broken recorded reply: %v", err)
	}
	if _, err := CompareXML([]byte(`<a/>`), []byte(``), nil); err == nil || !strings.Contains(err.Error(), "live") {
		t.Errorf("empty live reply: %v", err)
	}
}

// TestCompareXMLLarge aligns long child lists (the LCS table limit falls back to a
// greedy alignment) without losing the one difference.
func TestCompareXMLLarge(t *testing.T) {
	for _, n := range []int{100, 3000} {
		var r, l strings.Builder
		r.WriteString("<r>")
		l.WriteString("<r>")
		for i := range n {
			fmt.Fprintf(&r, `<n id="%d"/>`, i)
			if i == n/2 {
				l.WriteString(`<n id="x"/>`)
			}
			fmt.Fprintf(&l, `<n id="%d"/>`, i)
		}
		r.WriteString("</r>")
		l.WriteString("</r>")
		d, err := CompareXML([]byte(r.String()), []byte(l.String()), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(d) != 1 || d[0].Path != "/r/n[@id='x']" || d[0].Kind != DiffAdded {
			t.Errorf("%d children: %v", n, d)
		}
	}
}

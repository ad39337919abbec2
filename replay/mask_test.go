package replay

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestMaskSpecs(t *testing.T) {
	tests := []struct {
		desc, spec string
		element    bool
		ok         bool
	}{
		{"attribute", "epoch", false, true},
		{"attribute of an element", "ack@line", false, true},
		{"attribute of an element with a condition", "nvpair[@name=dc-version]@value", false, true},
		{"quoted condition", `nvpair[@name="dc version"]@value`, false, true},
		{"element", "status", true, true},
		{"element with a condition", "node_state[@uname=node2]", true, true},
		{"empty", "", false, false},
		{"no element before @", "@value", false, false},
		{"condition without attribute", "nvpair[@name=x]", false, false},
		{"broken condition", "nvpair[name=x]@value", false, false},
		{"unclosed condition", "nvpair[@name=x@value", false, false},
		{"element with an attribute", "nvpair@value", true, false},
	}
	for _, tt := range tests {
		m := NewMask()
		var err error
		if tt.element {
			err = m.Element(tt.spec)
		} else {
			err = m.Attr(tt.spec)
		}
		if (err == nil) != tt.ok {
			t.Errorf("%s (%q): error %v", tt.desc, tt.spec, err)
		}
	}
}

func TestMaskApply(t *testing.T) {
	m := NewMask()
	for _, s := range []string{"epoch", "ack@line", "nvpair[@name=dc-version]@value"} {
		if err := m.Attr(s); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.Element("status"); err != nil {
		t.Fatal(err)
	}
	if err := m.Element("node[@id=2]"); err != nil {
		t.Fatal(err)
	}
	in := `<r epoch="1" line="3"><ack line="7" status="112"/><nvpair name="dc-version" value="2.1.5"/>` +
		`<nvpair name="other" value="x"/><status><x/></status><node id="1"/><node id="2"/><deep><a epoch="9" b="1"/></deep></r>`
	want := `<r line="3"><ack status="112"/><nvpair name="dc-version"/><nvpair name="other" value="x"/><node id="1"/><deep><a b="1"/></deep></r>`
	root, err := parseRoot([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	m.apply(root)
	if got := serialize(root); got != want {
		t.Errorf("masked:\n%s\nwant\n%s", got, want)
	}
}

// TestMaskDocumented keeps MASK.md's default table and defaultAttrMask in step.
func TestMaskDocumented(t *testing.T) {
	b, err := os.ReadFile("MASK.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "## The default mask")
	if !ok {
		t.Fatal("MASK.md has no default mask section")
	}
	row := regexp.MustCompile(`(?m)^\| [^|]+ \| (.*) \|$`)
	item := regexp.MustCompile("`([^`]+)`")
	var doc []string
	for _, r := range row.FindAllStringSubmatch(section, -1) {
		for _, it := range item.FindAllStringSubmatch(r[1], -1) {
			doc = append(doc, it[1])
		}
	}
	code, _ := DefaultMask().Specs()
	slices.Sort(doc)
	slices.Sort(code)
	if !slices.Equal(doc, code) {
		t.Errorf("MASK.md lists\n%v\nthe code\n%v", doc, code)
	}
}

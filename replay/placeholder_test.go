package replay

import (
	"strings"
	"testing"
)

func TestPlaceholderWildcards(t *testing.T) {
	recorded := `<r><nvpair name="passwd" value="*k3q9a*"/><a x="1" note="user *ab12* on host"/><t>pw *x* here</t></r>`
	live := `<r><nvpair name="passwd" value="a-longer-secret"/><a x="1" note="user s3cret on host"/><t>pw abc here</t></r>`
	plain := DefaultMask()
	d, err := CompareXML([]byte(recorded), []byte(live), plain)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 3 {
		t.Errorf("without placeholders: %d differences, want 3: %v", len(d), d)
	}
	d, err = CompareXML([]byte(recorded), []byte(live), plain.withPlaceholders())
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 0 {
		t.Errorf("with placeholders: %v", d)
	}
	// what is not a placeholder still counts
	d, _ = CompareXML([]byte(`<a x="1" n="u *ab* v"/>`), []byte(`<a x="2" n="w abcd v"/>`), plain.withPlaceholders())
	if len(d) != 2 {
		t.Errorf("differences beside placeholders: %v", d)
	}
}

// TestRunRedacted replays a redacted capture: the recorded reply holds a
// placeholder where the live one holds the password, and still matches;
// the same capture not marked redacted diverges.
func TestRunRedacted(t *testing.T) {
	secret := strings.Replace(testCIB, "</cluster_property_set>", `<nvpair id="o-pw" name="passwd" value="hunter22"/></cluster_property_set>`, 1)
	redacted := strings.Replace(secret, "hunter22", "*q7k2a*", 1)
	for _, tc := range []struct {
		section string
		want    string
	}{
		{"default names", "cib_query:matched"},
		{"", "cib_query:diverged"},
	} {
		c := recording(t, cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", redacted))
		c.Section.Redacted = tc.section
		rep := runFake(t, c, &fakeCluster{cib: secret}, Options{ASAP: true})
		if got := outcomes(rep); len(got) != 2 || got[1] != tc.want {
			t.Errorf("section %q: outcomes %v, want %s", tc.section, got, tc.want)
		}
	}
}

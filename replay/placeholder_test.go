package replay

import "testing"

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

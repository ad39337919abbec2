package pcmk

import (
	"strconv"
	"testing"
	"unsafe"
)

func TestInterner(t *testing.T) {
	var in Interner
	first := in.Intern([]byte("cibadmin"))
	for _, s := range []string{"cibadmin", "crm_mon", "cibadmin", "", "", "crm_mon"} {
		if got := in.Intern([]byte(s)); got != s {
			t.Fatalf("Intern(%q) = %q", s, got)
		}
	}
	if again := in.Intern([]byte("cibadmin")); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("a value seen before got a new string")
	}
	cib, mon := []byte("cibadmin"), []byte("crm_mon")
	if n := testing.AllocsPerRun(100, func() { in.Intern(cib); in.Intern(mon); in.Intern(mon) }); n != 0 {
		t.Errorf("%v allocations per run of values seen before", n)
	}
	// A full table starts over rather than growing.
	for i := range 2 * maxInterned {
		in.Intern([]byte(strconv.Itoa(i)))
	}
	if len(in.m) > maxInterned {
		t.Errorf("%d values held, limit %d", len(in.m), maxInterned)
	}
}

func TestInternValue(t *testing.T) {
	var in Interner
	v := []byte("cib_query")
	first := in.InternValue(v)
	if again := in.InternValue(v); first != "cib_query" || unsafe.StringData(again) != unsafe.StringData(first) {
		t.Errorf("short value not interned: %q", again)
	}
	if got := in.InternValue([]byte("a&amp;b")); got != "a&b" {
		t.Errorf("value with a reference: %q", got)
	}
	var none *Interner
	if got := none.InternValue([]byte("x&lt;")); got != "x<" {
		t.Errorf("nil Interner: %q", got)
	}
}

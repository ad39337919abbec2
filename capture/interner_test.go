package capture

import (
	"testing"
	"unsafe"
)

func TestInterner(t *testing.T) {
	field := func(s string) []int8 {
		b := make([]int8, 16)
		for i := range len(s) {
			b[i] = int8(s[i])
		}
		return b
	}
	cib, mon, none := field("cibadmin"), field("crm_mon"), field("")
	var in interner
	first := in.get(cib)
	for _, tc := range []struct {
		field []int8
		want  string
	}{{cib, "cibadmin"}, {mon, "crm_mon"}, {cib, "cibadmin"}, {none, ""}, {none, ""}, {mon, "crm_mon"}} {
		if got := in.get(tc.field); got != tc.want {
			t.Fatalf("get %q: %q", tc.want, got)
		}
	}
	if again := in.get(cib); unsafe.StringData(again) != unsafe.StringData(first) {
		t.Error("a name seen before got a new string")
	}
	if n := testing.AllocsPerRun(100, func() { in.get(cib); in.get(mon); in.get(mon) }); n != 0 {
		t.Errorf("%v allocations per run of names seen before", n)
	}
}

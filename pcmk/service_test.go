package pcmk

import (
	"slices"
	"testing"
)

func TestServiceFamily(t *testing.T) {
	for _, tc := range []struct {
		service   string
		family    Family
		daemon    string
		pacemaker bool
	}{
		{"cib_ro", FamilyCIB, "based", true},
		{"cib_rw", FamilyCIB, "based", true},
		{"cib_shm", FamilyCIB, "based", true},
		{"crmd", FamilyController, "controld", true},
		{"pacemakerd", FamilyPacemakerd, "pacemakerd", true},
		{"pengine", FamilyScheduler, "schedulerd", true},
		{"attrd", FamilyAttrd, "attrd", true},
		{"lrmd", FamilyExecd, "execd", true},
		{"stonith-ng", FamilyFencer, "fenced", true},
		{"cpg", FamilyCorosync, "", false},
		{"votequorum", FamilyCorosync, "", false},
		{"mystery", FamilyOther, "", false},
		{"", FamilyOther, "", false},
	} {
		f := ServiceFamily(tc.service)
		if f != tc.family || f.Daemon() != tc.daemon || f.Pacemaker() != tc.pacemaker {
			t.Errorf("%q: family %d, daemon %q, pacemaker %v; want %d, %q, %v",
				tc.service, f, f.Daemon(), f.Pacemaker(), tc.family, tc.daemon, tc.pacemaker)
		}
	}
}

func TestServices(t *testing.T) {
	names := Services()
	if !slices.IsSorted(names) || len(names) != 14 {
		t.Fatalf("Services() = %q: want 14 names, sorted", names)
	}
	for _, n := range names {
		if ServiceFamily(n) == FamilyOther {
			t.Errorf("%s is listed but has no family", n)
		}
	}
	names[0] = "changed"
	if Services()[0] == "changed" {
		t.Error("Services shares its slice with the table")
	}
}

func TestOpRank(t *testing.T) {
	order := []string{"cib_op", "st_op", "lrmd_op", "crm_task", "task"}
	for i, name := range order {
		if got := OpRank([]byte(name)); got != i {
			t.Errorf("OpRank(%s) = %d, want %d", name, got, i)
		}
	}
	for _, name := range []string{"", "op", "cib_opx", "subt"} {
		if got := OpRank([]byte(name)); got != OpRankNone {
			t.Errorf("OpRank(%q) = %d, want OpRankNone", name, got)
		}
	}
}

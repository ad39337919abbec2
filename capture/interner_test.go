package capture

import (
	"fmt"
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

// identityKey reads Comm, Service and Conn as one array: they must lie side
// by side in pieceHdr.
func TestIdentityKeyLayout(t *testing.T) {
	var h pieceHdr
	comm, svc, conn := unsafe.Offsetof(h.Comm), unsafe.Offsetof(h.Service), unsafe.Offsetof(h.Conn)
	if svc != comm+unsafe.Sizeof(h.Comm) || conn != svc+unsafe.Sizeof(h.Service) ||
		unsafe.Sizeof(identityKey{}) != unsafe.Sizeof(h.Comm)+unsafe.Sizeof(h.Service)+unsafe.Sizeof(h.Conn) {
		t.Fatalf("Comm @%d, Service @%d, Conn @%d: not side by side", comm, svc, conn)
	}
}

func TestIdentities(t *testing.T) {
	header := func(comm, service, conn string) *pieceHdr {
		h := new(pieceHdr)
		for i := range len(comm) {
			h.Comm[i] = int8(comm[i])
		}
		for i := range len(service) {
			h.Service[i] = int8(service[i])
		}
		for i := range len(conn) {
			h.Conn[i] = int8(conn[i])
		}
		return h
	}
	var ids identities
	a := header("cibadmin", "cib_rw", "qb-1201-5678-13-abcdef")
	b := header("cibadmin", "cib_rw", "qb-1201-5679-13-ghijkl")
	idA := ids.get(a)
	if *idA != (identity{comm: "cibadmin", service: "cib_rw", conn: "qb-1201-5678-13-abcdef", serverPID: 1201, clientPID: 5678}) {
		t.Errorf("identity %+v", *idA)
	}
	idB := ids.get(b)
	if idB == idA || idB.conn != "qb-1201-5679-13-ghijkl" || idB.clientPID != 5679 {
		t.Errorf("second connection: %+v", *idB)
	}
	if unsafe.StringData(idB.comm) != unsafe.StringData(idA.comm) {
		t.Error("the same command got two strings")
	}
	if again := ids.get(header("cibadmin", "cib_rw", "qb-1201-5678-13-abcdef")); again != idA {
		t.Error("a header seen before got a new identity")
	}
	if n := testing.AllocsPerRun(100, func() { ids.get(a); ids.get(b) }); n != 0 {
		t.Errorf("%v allocations per run of headers seen before", n)
	}
	if none := ids.get(header("", "", "")); *none != (identity{}) {
		t.Errorf("empty header: %+v", *none)
	}
	// Bytes after a NUL are not part of a name: the same strings, maybe
	// another entry.
	c := header("cibadmin", "cib_rw", "qb-1201-5678-13-abcdef")
	c.Comm[15] = 'x'
	if idC := ids.get(c); idC.comm != "cibadmin" || idC.conn != idA.conn || unsafe.StringData(idC.comm) != unsafe.StringData(idA.comm) {
		t.Errorf("header with bytes after the NUL: %+v", *idC)
	}
	// Past maxIdentities the map starts again, and still answers.
	for i := range maxIdentities + 1 {
		h := header("crm_mon", "cib_ro", fmt.Sprintf("qb-1-%d-2-x", i))
		if id := ids.get(h); id.clientPID != uint32(i) {
			t.Fatalf("identity %d: %+v", i, *id)
		}
	}
	if len(ids.m) > maxIdentities {
		t.Errorf("%d identities kept, bound %d", len(ids.m), maxIdentities)
	}
	if id := ids.get(a); id.conn != "qb-1201-5678-13-abcdef" || id.clientPID != 5678 {
		t.Errorf("after the reset: %+v", *id)
	}
}

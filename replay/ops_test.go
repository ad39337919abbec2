package replay

import (
	"os"
	"regexp"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		desc    string
		service string
		op      string
		xml     string
		want    Class
	}{
		{"CIB query", "cib_ro", "cib_query", "", ClassRead},
		{"CIB register on cib_rw", "cib_rw", "register", "", ClassRead},
		{"CIB modify", "cib_rw", "cib_modify", "", ClassWrite},
		{"CIB replace on cib_shm", "cib_shm", "cib_replace", "", ClassWrite},
		{"unknown CIB operation", "cib_rw", "cib_frobnicate", "", ClassWrite},
		{"empty operation", "cib_rw", "", "", ClassWrite},
		{"controller ping", "crmd", "ping", "", ClassRead},
		{"controller hello", "crmd", "hello", "", ClassRead},
		{"controller lrm_delete", "crmd", "lrm_delete", "", ClassWrite},
		{"pacemakerd ping", "pacemakerd", "ping", "", ClassRead},
		{"pacemakerd quit", "pacemakerd", "quit", "", ClassWrite},
		{"attrd query", "attrd", "query", "", ClassRead},
		{"attrd update", "attrd", "update", "", ClassWrite},
		{"attrd clear-failure", "attrd", "clear-failure", "", ClassWrite},
		{"execd sign-on", "lrmd", "register", "", ClassRead},
		{"execd exec", "lrmd", "lrmd_rsc_exec", "", ClassWrite},
		{"fencer query", "stonith-ng", "st_query", "", ClassRead},
		{"fencer fence", "stonith-ng", "st_fence", "", ClassWrite},
		{"fence history", "stonith-ng", "st_fence_history",
			`<stonith_command t="stonith-ng" st_op="st_fence_history" st_callopt="4096"/>`, ClassRead},
		{"fence history cleanup", "stonith-ng", "st_fence_history",
			`<stonith_command t="stonith-ng" st_op="st_fence_history" st_callopt="528384"/>`, ClassWrite},
		{"scheduler", "pengine", "pe_calc", "", ClassRead},
		{"an operation of another daemon's table", "attrd", "cib_query", "", ClassWrite},
		{"corosync", "cpg", "cpg_join", "", ClassWrite},
	}
	for _, tt := range tests {
		m := &decode.Message{Service: tt.service, Op: tt.op, XML: []byte(tt.xml)}
		if got := Classify(m); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.desc, got, tt.want)
		}
	}
}

// TestOpsDocumented keeps OPS.md and the table in step.
func TestOpsDocumented(t *testing.T) {
	b, err := os.ReadFile("OPS.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| (\\w+) \\| `([^`]+)` \\| (read|write) \\| ([^|]*) \\|$")
	doc := map[[2]string]string{}
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		doc[[2]string{m[1], m[2]}] = m[3]
	}
	for _, o := range Ops() {
		k := [2]string{o.Daemon, o.Op}
		if c, ok := doc[k]; !ok {
			t.Errorf("OPS.md lacks %s %s", o.Daemon, o.Op)
		} else if c != o.Class.String() {
			t.Errorf("OPS.md says %s %s is a %s, the table a %v", o.Daemon, o.Op, c, o.Class)
		}
		delete(doc, k)
	}
	for k := range doc {
		t.Errorf("OPS.md lists %s %s, the table does not", k[0], k[1])
	}
}

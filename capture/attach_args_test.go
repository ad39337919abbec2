//go:build linux && amd64

package capture

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The uprobes table's argument counts are those of the programs' signatures in
// bpf/ipc.c: a probe moved past the entry must find them all unchanged.
func TestUprobeArgsMatchPrograms(t *testing.T) {
	src, err := os.ReadFile("../bpf/ipc.c")
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]int{}
	for _, m := range regexp.MustCompile(`BPF_KPROBE\((\w+)((?:,[^,)]+)*)\)`).FindAllStringSubmatch(string(src), -1) {
		args[m[1]] = strings.Count(m[2], ",")
	}
	for _, u := range uprobes {
		if u.ret {
			continue
		}
		n, ok := args[u.prog]
		if !ok {
			t.Errorf("%s: no BPF_KPROBE(%s, ...) in bpf/ipc.c", u.symbol, u.prog)
		} else if n != u.args {
			t.Errorf("%s: the table says %d arguments, BPF_KPROBE(%s) reads %d", u.symbol, u.args, u.prog, n)
		}
	}
}

//go:build linux && amd64

package capture

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// A libqb found through a process that has since ended is probed through a
// spare path to the same file: the recorder does not fail because a short-lived
// tool (crm_mon, cibadmin) exited between the search and the attachment.
func TestAttachThroughSparePath(t *testing.T) {
	requireRoot(t)
	tr := openTracer(t, Config{})
	libs := tr.Libraries()
	var good string
	for _, l := range libs {
		if l.Err == nil && !strings.HasPrefix(l.Path, "/proc/") {
			good = l.Path
			break
		}
	}
	if good == "" {
		t.Skipf("no libqb reachable without /proc among %d", len(libs))
	}
	gone := filepath.Join("/proc", "999999999", "map_files", "7f0000000000-7f0000001000")
	if _, err := os.Stat(gone); err == nil {
		t.Fatalf("%s exists", gone)
	}
	symbols := append([]string(nil), requiredSymbols...)
	links := len(tr.links)
	lib := Library{Path: gone, alts: []string{gone + "x", good}}
	tr.attachOne(&lib, symbols, false)
	if lib.Err != nil || lib.Path != good {
		t.Fatalf("attached %q: %v", lib.Path, lib.Err)
	}
	if len(tr.links) <= links {
		t.Error("no probe attached through the spare path")
	}
	// Without a spare, the error names the missing file.
	lib = Library{Path: gone}
	tr.attachOne(&lib, symbols, false)
	if lib.Err == nil || !os.IsNotExist(lib.Err) && !strings.Contains(lib.Err.Error(), "no such file") {
		t.Errorf("a path that has gone: %v", lib.Err)
	}
}

// mappedLibraries names a file by the path the processes map when that path
// reaches the same file from here, so it does not end with a process.
func TestMappedLibrariesPreferStablePaths(t *testing.T) {
	requireRoot(t)
	libqb, err := filepath.EvalSymlinks("/usr/lib/x86_64-linux-gnu/libqb.so.100")
	if err != nil {
		testcluster.Skip(t, "no libqb.so.100 on the host (libqb100)")
	}
	// A process of our own that maps it, whatever else runs on the machine.
	cmd := exec.Command("sleep", "30")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+libqb)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		found := false
		for _, c := range mappedLibraries() {
			if strings.HasPrefix(c.path, "/proc/") && sameFileAsName(c) {
				t.Errorf("%s is reachable as %s, but the candidate goes through /proc", c.path, c.name)
			}
			found = found || c.name == libqb
		}
		if found {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no candidate for %s, which process %d maps", libqb, cmd.Process.Pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func sameFileAsName(c candidate) bool {
	a, err1 := os.Stat(c.path)
	b, err2 := os.Stat(c.name)
	return err1 == nil && err2 == nil && os.SameFile(a, b)
}

// The watcher skips its walk of /proc while /proc/loadavg's last PID stays
// the same: a process started in between must move it.
func TestLastPIDMovesWithNewProcess(t *testing.T) {
	before, ok := lastPID()
	if !ok {
		t.Fatal("no last PID in /proc/loadavg")
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	after, _ := lastPID()
	if after == before {
		t.Fatalf("last PID still %d after starting pid %d", after, cmd.Process.Pid)
	}
}

// Every release's libqb (the sandboxes' own files) puts qb_rb_chunk_commit's
// probe on a conditional jump the kernel emulates, after the instructions
// that check its ring argument: the probe costs one exception per message.
func TestCommitProbeEmulated(t *testing.T) {
	requireRoot(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel})
			root := fmt.Sprintf("/proc/%d/root", c.InitPID)
			libs, _ := filepath.Glob(root + "/usr/lib/x86_64-linux-gnu/libqb.so.100.*")
			if len(libs) == 0 {
				t.Fatalf("no libqb in %s", root)
			}
			offs := emulatedOffsets(libs[0], map[string]int{"qb_rb_chunk_commit": 2})
			off, ok := offs["qb_rb_chunk_commit"]
			if !ok {
				t.Fatalf("%s: qb_rb_chunk_commit stays at its entry", libs[0])
			}
			code := readFunc(t, libs[0], "qb_rb_chunk_commit", int(off)+2)
			if b := code[off]; !(b >= 0x70 && b <= 0x7f) && !(b == 0x0f && code[off+1]&0xf0 == 0x80) {
				t.Errorf("%s: offset %d holds % x, not a conditional jump", libs[0], off, code[off:])
			}
			t.Logf("%s: qb_rb_chunk_commit probed at +%d (% x)", filepath.Base(libs[0]), off, code)
		})
	}
}

// readFunc returns the first n bytes of the dynamic symbol name in the ELF file path.
func readFunc(t *testing.T, path, name string, n int) []byte {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range syms {
		if s.Name == name {
			b, err := readSymbol(f, s, n)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s: no symbol %s", path, name)
	return nil
}

//go:build linux && amd64

package capture

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// fakeExecs hands out the processes a test says exec'd.
type fakeExecs struct {
	pids     []int
	complete bool
}

func (f *fakeExecs) drain() ([]int, bool) {
	pids := f.pids
	f.pids = nil
	return pids, f.complete
}

// startWithLibQBCopy starts a process that maps a copy of the system's
// libqb, as one run after a package upgrade maps the new file.
func startWithLibQBCopy(t *testing.T) (pid int, lib string) {
	t.Helper()
	libs, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/libqb.so.100.*")
	if len(libs) == 0 {
		t.Skip("no /usr/lib/x86_64-linux-gnu/libqb.so.100.*")
	}
	data, err := os.ReadFile(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	lib = filepath.Join(t.TempDir(), "libqb.so.100")
	if err := os.WriteFile(lib, data, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sleep", "60")
	cmd.Env = append(os.Environ(), "LD_PRELOAD="+lib)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if slices.ContainsFunc(libqbMapped(cmd.Process.Pid), func(c candidate) bool { return c.path == lib }) {
			return cmd.Process.Pid, lib
		}
		if time.Now().After(deadline) {
			// The loader ignores a preload it cannot map (a noexec /tmp).
			testcluster.Skip(t, fmt.Sprintf("pid %d does not map %s (a noexec temporary directory?)", cmd.Process.Pid, lib))
		}
	}
}

func foundPaths(libs []Library) []string {
	var paths []string
	for _, l := range libs {
		paths = append(paths, l.Path)
	}
	return paths
}

// Fed by the exec tracepoint, the watcher reads the maps of the processes
// that exec'd, a few scans each, and of no other: no walk of /proc.
func TestWatchExecsReadsExecedProcesses(t *testing.T) {
	pid, lib := startWithLibQBCopy(t)
	src := &fakeExecs{complete: true}
	w := newLibWatch(nil, src)
	if got := w.scan(); len(got) != 0 {
		t.Fatalf("no exec yet, found %v", foundPaths(got))
	}
	src.pids = []int{pid}
	got := w.scan()
	if len(got) != 1 || got[0].Path != lib || got[0].PID != pid || got[0].Comm != "sleep" {
		t.Fatalf("found %+v, want %s by pid %d (sleep)", got, lib, pid)
	}
	// Read in youngScans scans in a row, then forgotten.
	for i := 2; i <= youngScans; i++ {
		if _, young := w.ages[pid]; !young {
			t.Fatalf("pid %d no longer young before scan %d", pid, i)
		}
		if got := w.scan(); len(got) != 0 {
			t.Fatalf("scan %d found %v again", i, foundPaths(got))
		}
	}
	if len(w.ages) != 0 {
		t.Fatalf("still young after %d scans: %v", youngScans, w.ages)
	}
}

// When the execs map had no room for some, the watcher looks at every
// process, as at the processes that exec'd: in youngScans scans.
func TestWatchExecsIncompleteLooksEverywhere(t *testing.T) {
	pid, lib := startWithLibQBCopy(t)
	src := &fakeExecs{complete: true}
	w := newLibWatch(nil, src)
	if got := w.scan(); len(got) != 0 {
		t.Fatalf("no exec announced, found %v", foundPaths(got))
	}
	src.complete = false
	if got := foundPaths(w.scan()); !slices.Contains(got, lib) {
		t.Fatalf("found %v, want %s among them", got, lib)
	}
	src.complete = true
	if w.scan(); w.ages[pid] == 0 {
		t.Fatalf("pid %d not read again after the incomplete scan", pid)
	}
}

// The exec tracepoint fills the execs map with the PIDs /proc shows, and
// counts nothing unseen.
func TestExecsMapNamesExecedProcess(t *testing.T) {
	requireRoot(t)
	if !watchesExecs(Config{}) {
		t.Skip("not in the initial PID namespace: the watcher walks /proc")
	}
	tr := openTracer(t, Config{NoSocket: true})
	if tr.execs == nil {
		t.Fatal("no execs map although the watcher follows execs")
	}
	// The test drains the map itself.
	close(tr.watchStop)
	<-tr.watchDone
	tr.watchStop = nil
	tr.execs.drain()

	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pids, complete := tr.execs.drain()
	if !complete || !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("drained %v (complete %v), want pid %d among them", pids, complete, cmd.Process.Pid)
	}
	if pids, _ := tr.execs.drain(); slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("pid %d drained twice", cmd.Process.Pid)
	}

	// The same, one key at a time, as kernels without batches drain it.
	cmd = exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if pids := tr.execs.drainEach(nil); !slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("drained %v one by one, want pid %d among them", pids, cmd.Process.Pid)
	}
	if pids := tr.execs.drainEach(nil); slices.Contains(pids, cmd.Process.Pid) {
		t.Fatalf("pid %d drained twice one by one", cmd.Process.Pid)
	}
}

// The counters read in one batch are those read one by one. (Other
// processes' libqb traffic may move them meanwhile: they only grow.)
func TestCountersBatchMatchesEach(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	tr := openTracer(t, Config{NoSocket: true})
	runPair(t, bin, fmt.Sprintf("pt%d-counters", os.Getpid()), "shm", 1<<20, []int{100, 2000})
	before, err := tr.readCountersEach()
	if err != nil {
		t.Fatal(err)
	}
	batch, ok := tr.readCountersBatch()
	if !ok {
		t.Fatal("the kernel refused the batch lookup")
	}
	after, err := tr.readCountersEach()
	if err != nil {
		t.Fatal(err)
	}
	for i := range batch {
		if batch[i] < before[i] || batch[i] > after[i] {
			t.Fatalf("counter %d: %d in the batch, %d before and %d after one by one", i, batch[i], before[i], after[i])
		}
	}
	if batch[ipcIpcCounterIPC_HIT_COMMIT] < 4 {
		t.Fatalf("batch %v: fewer commits than the pair sent", batch)
	}
}

//go:build linux

package testcluster

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMain(m *testing.M) { Main(m) }

// TestClusterIsReal proves the sandbox runs real daemons on every release of the matrix: the
// CIB answers, the node is DC with quorum, and a resource agent really starts.
func TestClusterIsReal(t *testing.T) {
	for _, rel := range Releases() {
		t.Run(rel, func(t *testing.T) { testClusterIsReal(t, RequireConfig(t, Config{Release: rel})) })
	}
}

func testClusterIsReal(t *testing.T, c *Cluster) {
	want := map[string]string{"bookworm": "2.1.5", "trixie": "3.0.0", "sid": "3.0."}[c.Release]
	if ver := string(c.MustExec(t, "pacemakerd", "--version")); !strings.Contains(ver, "Pacemaker "+want) {
		t.Errorf("release %s runs %q, want Pacemaker %s", c.Release, strings.SplitN(ver, "\n", 2)[0], want)
	}

	cib := string(c.MustExec(t, "cibadmin", "-Q"))
	if !strings.HasPrefix(cib, "<cib ") || !strings.Contains(cib, `name="stonith-enabled" value="false"`) {
		t.Fatalf("cibadmin -Q: not the seeded CIB:\n%.500s", cib)
	}

	mon := string(c.MustExec(t, "crm_mon", "-1"))
	for _, want := range []string{"Current DC: node1", "partition with quorum", "Online: [ node1 ]"} {
		if !strings.Contains(mon, want) {
			t.Errorf("crm_mon -1 lacks %q:\n%s", want, mon)
		}
	}

	const rsc = `<primitive id="ttest" class="ocf" provider="pacemaker" type="Dummy"/>`
	c.MustExec(t, "cibadmin", "-C", "-o", "resources", "-X", rsc)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := c.Exec(context.Background(), "crm_resource", "--locate", "-r", "ttest")
		if strings.Contains(string(out), "is running on: node1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Dummy resource did not start: %s\n%s", out, c.MustExec(t, "crm_mon", "-1"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.MustExec(t, "crm_resource", "--resource", "ttest", "--set-parameter", "target-role", "--meta", "--parameter-value", "Stopped")
	deadline = time.Now().Add(30 * time.Second)
	for {
		out, _ := c.Command(context.Background(), "crm_resource", "--locate", "-r", "ttest").CombinedOutput()
		if strings.Contains(string(out), "NOT running") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Dummy resource did not stop: %s", out)
		}
		time.Sleep(200 * time.Millisecond)
	}
	c.MustExec(t, "cibadmin", "-D", "-o", "resources", "-X", rsc)
	if cib := string(c.MustExec(t, "cibadmin", "-Q", "-o", "resources")); strings.Contains(cib, "ttest") {
		t.Fatalf("resource still configured after delete:\n%s", cib)
	}
}

// TestSandboxIsPrivate checks that the sandbox's state never reaches the host.
func TestSandboxIsPrivate(t *testing.T) {
	c := Require(t)
	host, _ := os.Hostname()
	if got := strings.TrimSpace(string(c.MustExec(t, "hostname"))); got != "node1" || host == "node1" {
		t.Errorf("sandbox hostname %q (host %q): want node1 and a different host name", got, host)
	}
	for _, ns := range []string{"mnt", "net", "pid", "ipc", "uts"} {
		self, _ := os.Readlink("/proc/self/ns/" + ns)
		sb, _ := os.Readlink(filepath.Join("/proc", itoa(c.InitPID), "ns", ns))
		if self == sb || sb == "" {
			t.Errorf("namespace %s: sandbox %q, host %q: want different", ns, sb, self)
		}
	}
	// The sandbox's libqb rings live in its private /dev/shm, not the host's.
	shm := string(c.MustExec(t, "ls", "/dev/shm"))
	if !regexp.MustCompile(`qb-\d+-\d+-\d+-`).MatchString(shm) {
		t.Fatalf("no libqb connection directories in the sandbox's /dev/shm:\n%s", shm)
	}
	hostShm, _ := filepath.Glob("/dev/shm/qb-*")
	for _, f := range hostShm {
		if strings.Contains(shm, filepath.Base(f)) {
			t.Errorf("%s is visible on the host", f)
		}
	}
}

// TestUpDownRepeated: up twice and down twice give clear messages, no error.
func TestUpDownRepeated(t *testing.T) {
	RequireRoot(t)
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Name: "test-updown", ScriptPath: script}
	if _, err := exec.LookPath("pacemakerd"); err != nil {
		Skip(t, "pacemaker not installed")
	}
	t.Cleanup(func() { c.script("down") })
	if out, err := c.script("down"); err != nil || !strings.Contains(string(out), "not running") {
		t.Fatalf("down with nothing up: %v: %s", err, out)
	}
	if out, err := c.script("up"); err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	if out, err := c.script("up"); err != nil || !strings.Contains(string(out), "already up") {
		t.Fatalf("second up: %v: %s", err, out)
	}
	if out, err := c.script("down"); err != nil || !strings.Contains(string(out), "down in") {
		t.Fatalf("down: %v: %s", err, out)
	}
	if out, err := c.script("down"); err != nil || !strings.Contains(string(out), "not running") {
		t.Fatalf("second down: %v: %s", err, out)
	}
}

// TestDownAfterCrash: a sandbox whose init was killed (a crashed test run) is cleaned up by
// down, leaving no process, mount or shared memory behind.
func TestDownAfterCrash(t *testing.T) {
	RequireRoot(t)
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pacemakerd"); err != nil {
		Skip(t, "pacemaker not installed")
	}
	c := &Cluster{Name: "test-crash", ScriptPath: script}
	t.Cleanup(func() { c.script("down") })
	if out, err := c.script("up"); err != nil {
		t.Fatalf("up: %v: %s", err, out)
	}
	pidOut, err := c.script("pid")
	if err != nil {
		t.Fatal(err)
	}
	pid := strings.TrimSpace(string(pidOut))
	pidns, err := os.Readlink("/proc/" + pid + "/ns/pid")
	if err != nil {
		t.Fatal(err)
	}
	hostShmBefore, _ := filepath.Glob("/dev/shm/*")
	// Crash: SIGKILL the daemons inside, as a test that died mid-run might leave them.
	for _, p := range pidsInNamespace(pidns) {
		if itoa(p) != pid {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}
	if out, err := c.script("down"); err != nil {
		t.Fatalf("down after crash: %v: %s", err, out)
	}
	if left := pidsInNamespace(pidns); len(left) > 0 {
		t.Fatalf("processes left in the sandbox's pid namespace: %v", left)
	}
	if _, err := os.Stat("/run/pcmk-trace/test-crash"); !os.IsNotExist(err) {
		t.Errorf("state directory left behind: %v", err)
	}
	hostShmAfter, _ := filepath.Glob("/dev/shm/*")
	if len(hostShmAfter) > len(hostShmBefore) {
		t.Errorf("host /dev/shm grew: %v -> %v", hostShmBefore, hostShmAfter)
	}
	mounts, _ := os.ReadFile("/proc/self/mountinfo")
	if strings.Contains(string(mounts), "sandbox-") {
		t.Errorf("sandbox mounts visible on the host:\n%s", mounts)
	}
}

func pidsInNamespace(ns string) []int {
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		if l, err := os.Readlink(d + "/ns/pid"); err == nil && l == ns {
			var p int
			for _, ch := range filepath.Base(d) {
				p = p*10 + int(ch-'0')
			}
			pids = append(pids, p)
		}
	}
	return pids
}

func itoa(i int) string { return strconv.Itoa(i) }

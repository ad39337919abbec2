// Package testcluster gives tests a real, sandboxed single-node Pacemaker cluster, started by
// scripts/testcluster. A test binary brings its own instance up once, on first use, and
// [Main] tears it down when the binary's tests are done.
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
//
//	func TestQuery(t *testing.T) {
//		c := testcluster.Require(t)
//		out := c.MustExec(t, "cibadmin", "-Q")
//		...
//	}
//
// Tests skip with a reason when not root or when Pacemaker is not installed, and fail
// instead when the environment variable CI is "true", so CI cannot pass by skipping.
// Under go test -short they skip, CI or not: -short asks for the tests that need
// neither root nor a cluster.
package testcluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config selects a cluster flavour.
type Config struct {
	Release string // "bookworm" (the host's packages, default), "trixie", "sid", or a root path
	IPC     string // "" (shared memory) or "socket"
	Remote  bool   // also start remote1, a Pacemaker Remote node (see [Cluster.CommandRemote])
	Nodes   int    // 0 or 1: one node; more: that many cluster nodes (see [Cluster.NodeCommand])
}

// Releases lists the releases the version-matrix tests run on: PCMK_TRACE_RELEASES
// (space-separated) or bookworm, trixie and sid (Pacemaker 2.1.5, 3.0.0 and 3.0.3).
func Releases() []string {
	if r := strings.Fields(os.Getenv("PCMK_TRACE_RELEASES")); len(r) > 0 {
		return r
	}
	return []string{"bookworm", "trixie", "sid"}
}

// Cluster is a running sandboxed cluster instance.
type Cluster struct {
	Name       string // instance name (TESTCLUSTER_NAME)
	Release    string
	IPC        string // "" (shared memory) or "socket"
	ScriptPath string // path of scripts/testcluster
	InitPID    int    // host pid of the sandbox's PID 1; nsenter -t InitPID enters it
	Remote     bool   // remote1 runs (Config.Remote)
	RemotePID  int    // host pid of the remote node's PID 1, when Remote
	Nodes      int    // cluster nodes: 1, or Config.Nodes
	NodePIDs   []int  // host pid of each node's PID 1 (node1 first); InitPID is node1's
}

var (
	mu      sync.Mutex
	started []*Cluster // instances this binary brought up, for Main to stop
	running = map[string]*Cluster{}
)

// Main runs the tests, then stops every instance this test binary started.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	for _, c := range started {
		if out, err := c.script("down"); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster down %s: %v\n%s", c.Name, err, out)
			code = 1
		}
	}
	mu.Unlock()
	os.Exit(code)
}

// Skip skips t with reason, or fails it when running in CI, where every test must run.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("cannot run in CI: %s", reason)
	}
	t.Skip(reason)
}

// RequireRoot skips (or fails in CI) unless the test runs as root on Linux. Under -short
// it skips.
func RequireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root; -short runs only the tests that do not")
	}
	if runtime.GOOS != "linux" {
		Skip(t, "needs Linux")
	}
	if os.Geteuid() != 0 {
		Skip(t, "needs root (namespaces, eBPF); run with sudo or make test")
	}
}

// Require returns the default test cluster (the host's packages, shared memory), starting it
// if needed.
func Require(t testing.TB) *Cluster { return RequireConfig(t, Config{}) }

// RequireConfig returns a test cluster of the given release whose daemons use the given libqb
// IPC type, starting it if needed.
func RequireConfig(t testing.TB, cfg Config) *Cluster {
	t.Helper()
	RequireRoot(t)
	for _, tool := range []string{"pacemakerd", "corosync", "cibadmin", "unshare", "nsenter"} {
		if _, err := exec.LookPath(tool); err != nil {
			Skip(t, tool+" not installed (run scripts/deps)")
		}
	}
	if cfg.Release == "" {
		cfg.Release = "bookworm"
	}
	name := instanceName(cfg)
	mu.Lock()
	defer mu.Unlock()
	if c := running[name]; c != nil {
		if c.alive() {
			return c
		}
		// A test that kills daemons can make pacemakerd give up, which ends the sandbox:
		// later tests get a fresh one rather than a stale pid.
		t.Logf("testcluster %s: its init has exited; starting it again", name)
		c.script("down")
		delete(running, name)
	}
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Name: name, Release: cfg.Release, IPC: cfg.IPC, Remote: cfg.Remote, ScriptPath: script, Nodes: max(1, cfg.Nodes)}
	out, err := c.script(c.upArgs()...)
	if err != nil {
		t.Fatalf("testcluster up %s: %v\n%s", name, err, out)
	}
	pidOut, err := c.script("pid")
	if err != nil {
		t.Fatalf("testcluster pid %s: %v\n%s", name, err, pidOut)
	}
	c.InitPID, err = strconv.Atoi(strings.TrimSpace(string(pidOut)))
	if err != nil {
		t.Fatalf("testcluster pid %s: %q", name, pidOut)
	}
	if c.Remote {
		if c.RemotePID, err = c.remotePID(); err != nil {
			t.Fatalf("testcluster pid --remote %s: %v", name, err)
		}
	}
	if err := c.findNodes(); err != nil {
		t.Fatal(err)
	}
	running[name] = c
	started = append(started, c)
	return c
}

// alive reports whether every node's init still runs, so nsenter can enter it.
func (c *Cluster) alive() bool {
	for _, pid := range c.NodePIDs {
		if _, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/ipc"); err != nil {
			return false
		}
	}
	return len(c.NodePIDs) > 0
}

// instanceName gives each test binary its own instance, so tests never stop a cluster
// that a person (or make demo) started.
func instanceName(cfg Config) string {
	base := filepath.Base(os.Args[0])
	base = strings.TrimSuffix(base, ".test")
	name := "test-" + base + "-" + filepath.Base(cfg.Release)
	if cfg.IPC != "" {
		name += "-" + cfg.IPC
	}
	if cfg.Remote {
		name += "-remote"
	}
	if cfg.Nodes > 1 {
		name += "-" + strconv.Itoa(cfg.Nodes) + "nodes"
	}
	return name
}

func (c *Cluster) script(args ...string) ([]byte, error) {
	cmd := exec.Command(c.ScriptPath, args...)
	remote := "0"
	if c.Remote {
		remote = "1"
	}
	cmd.Env = append(os.Environ(), "TESTCLUSTER_NAME="+c.Name, "TESTCLUSTER_IPC="+c.IPC, "TESTCLUSTER_RELEASE="+c.Release, "TESTCLUSTER_REMOTE="+remote)
	return cmd.CombinedOutput()
}

// Command returns a command that runs name with args inside the sandbox's namespaces.
func (c *Cluster) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	nsargs := append([]string{"-t", strconv.Itoa(c.InitPID), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", nsargs...)
}

// Exec runs a command inside the sandbox and returns its standard output; on failure the
// error carries standard error.
func (c *Cluster) Exec(ctx context.Context, name string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	cmd := c.Command(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

// MustExec is Exec with a 60 s limit that fails the test on error.
func (c *Cluster) MustExec(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := c.Exec(ctx, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Down stops the instance (for tests of the script itself).
func (c *Cluster) Down() ([]byte, error) {
	mu.Lock()
	defer mu.Unlock()
	delete(running, c.Name)
	return c.script("down")
}

// Up (re)starts the instance after Down.
func (c *Cluster) Up() ([]byte, error) {
	out, err := c.script(c.upArgs()...)
	if err != nil {
		return out, err
	}
	pidOut, err := c.script("pid")
	if err != nil {
		return pidOut, err
	}
	c.InitPID, _ = strconv.Atoi(strings.TrimSpace(string(pidOut)))
	if c.Remote {
		if c.RemotePID, err = c.remotePID(); err != nil {
			return nil, err
		}
	}
	if err := c.findNodes(); err != nil {
		return nil, err
	}
	mu.Lock()
	running[c.Name] = c
	mu.Unlock()
	return out, nil
}

// Script runs scripts/testcluster with args for this instance.
func (c *Cluster) Script(args ...string) ([]byte, error) { return c.script(args...) }

func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "scripts", "testcluster")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("find scripts/testcluster: %w", err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("find scripts/testcluster: no go.mod above the working directory")
		}
		dir = parent
	}
}

func (c *Cluster) remotePID() (int, error) {
	out, err := c.script("pid", "--remote")
	if err != nil {
		return 0, fmt.Errorf("find the remote node: %w: %s", err, strings.TrimSpace(string(out)))
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return 0, fmt.Errorf("find the remote node: pid %q: %w", out, err)
	}
	return pid, nil
}

// CommandRemote returns a command that runs name with args on the remote node, remote1, whose
// tools talk to pacemaker-remoted. The cluster must have been started with Config.Remote.
func (c *Cluster) CommandRemote(ctx context.Context, name string, args ...string) *exec.Cmd {
	nsargs := append([]string{"-t", strconv.Itoa(c.RemotePID), "-m", "-u", "-i", "-n", "-p", "-r", "-w", "--", name}, args...)
	return exec.CommandContext(ctx, "nsenter", nsargs...)
}

// ExecRemote is Exec on the remote node.
func (c *Cluster) ExecRemote(ctx context.Context, name string, args ...string) ([]byte, error) {
	if !c.Remote {
		return nil, fmt.Errorf("%s %s: cluster %s has no remote node", name, strings.Join(args, " "), c.Name)
	}
	var stdout, stderr bytes.Buffer
	cmd := c.CommandRemote(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("%s %s on the remote node: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.Bytes(), nil
}

package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// binPath is the command TestReplayCluster built for its subtests.
var binPath string

func pcmkTrace(t *testing.T) string {
	t.Helper()
	if binPath == "" {
		t.Fatal("pcmk-trace not built")
	}
	return binPath
}

// buildPcmkTrace builds the command into a directory removed when t ends.
func buildPcmkTrace(t *testing.T) {
	t.Helper()
	binPath = filepath.Join(t.TempDir(), "pcmk-trace")
	cmd := exec.Command("go", "build", "-o", binPath, "./cmd/pcmk-trace")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Cleanup(func() { binPath = "" })
}

// record runs the recorder while work runs. It keeps the sandbox's traffic only (--ns-of):
// the recorder sees every process of the host, and other test clusters may be busy.
func record(t *testing.T, c *testcluster.Cluster, name string, work func()) string {
	t.Helper()
	dir := t.TempDir()
	file, ready := filepath.Join(dir, name), filepath.Join(dir, "ready")
	var stderr bytes.Buffer
	rec := exec.Command(pcmkTrace(t), "record", "-w", file, "--ns-of", fmt.Sprint(c.InitPID), "--ready-file", ready)
	rec.Stderr = &stderr
	if err := rec.Start(); err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			rec.Process.Kill()
			rec.Wait()
		}
	}()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("recorder not ready after 60 s: %s", stderr.String())
		}
	}
	work()
	time.Sleep(300 * time.Millisecond) // let the last replies reach the file
	rec.Process.Signal(os.Interrupt)
	err := rec.Wait()
	stopped = true
	if err != nil {
		t.Fatalf("recorder: %v\n%s", err, stderr.String())
	}
	t.Logf("recorded: %s", strings.TrimSpace(strings.SplitN(stderr.String(), "\n", 2)[0]))
	return file
}

// report is the part of the JSON report the tests read.
type report struct {
	Totals struct {
		Requests, Sent, Answered, Matched, Diverged, Failed, Refused, Unchecked int
	}
	Ops []struct {
		Service, Op, Class string
		Requests           int
	}
	Results []struct {
		Service, Op, Outcome, Error, Comm string
		Diffs                             []struct{ Reply, Kind, Path, Recorded, Live string }
	}
}

// replay runs pcmk-trace replay into the sandbox and returns its exit status and report.
func replay(t *testing.T, c *testcluster.Cluster, file string, args ...string) (int, report, string) {
	t.Helper()
	args = append([]string{"replay", "--ns-of", fmt.Sprint(c.InitPID), "--timeout", "20s", "-f", "json"}, args...)
	args = append(args, file)
	cmd := exec.Command(pcmkTrace(t), args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("replay %v: exit %d, %v\nstdout: %s\nstderr: %s", args, code, err, stdout.String(), stderr.String())
	}
	return code, rep, stderr.String()
}

func mustExecOK(c *testcluster.Cluster, name string, args ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c.Exec(ctx, name, args...) // some tools exit non-zero with nothing to show
}

// TestReplayCluster records read-only tools and a write against the sandboxed cluster and
// replays them, on every release of the matrix, and the read-only tools once over the
// socket transport.
func TestReplayCluster(t *testing.T) {
	testcluster.RequireRoot(t)
	buildPcmkTrace(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel})
			t.Run("read-only", func(t *testing.T) { testReadOnly(t, c) })
			t.Run("write", func(t *testing.T) { testWrite(t, c) })
		})
	}
	// The socket transport, recorded from syscalls and replayed over datagrams.
	t.Run("bookworm/socket", func(t *testing.T) {
		c := testcluster.RequireConfig(t, testcluster.Config{Release: "bookworm", IPC: "socket"})
		t.Run("read-only", func(t *testing.T) { testReadOnly(t, c) })
	})
}

func testReadOnly(t *testing.T, c *testcluster.Cluster) {
	const attr = "replay-test-x"
	c.MustExec(t, "attrd_updater", "-n", attr, "-U", "5")
	for i := 0; ; i++ { // attrd applies updates asynchronously
		out, _ := c.Exec(context.Background(), "attrd_updater", "-n", attr, "-Q")
		if bytes.Contains(out, []byte(`value="5"`)) {
			break
		}
		if i == 100 {
			t.Fatalf("attribute not set: %s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { mustExecOK(c, "attrd_updater", "-n", attr, "-D") })

	file := record(t, c, "ro.pcapng", func() {
		c.MustExec(t, "cibadmin", "-Q")
		c.MustExec(t, "crm_mon", "-1")
		c.MustExec(t, "crmadmin", "-S", "node1")
		mustExecOK(c, "stonith_admin", "-L")
		c.MustExec(t, "attrd_updater", "-n", attr, "-Q")
	})

	code, rep, stderr := replay(t, c, file)
	tot := rep.Totals
	t.Logf("unchanged cluster: exit %d, totals %+v", code, tot)
	if code != 0 || tot.Requests == 0 || tot.Sent != tot.Requests || tot.Answered != tot.Requests || tot.Matched != tot.Requests {
		t.Fatalf("replay of a read-only capture: exit %d, totals %+v, stderr %s\n%+v", code, tot, stderr, rep.Results)
	}
	ops := map[string]bool{}
	for _, o := range rep.Ops {
		service := o.Service
		if strings.HasPrefix(service, "cib_") {
			service = "cib" // crm_mon reads cib_ro in 2.1.x, cib_rw in 3.0.x
		}
		ops[service+" "+o.Op] = true
	}
	for _, want := range []string{"cib register", "cib cib_query", "pacemakerd ping", "crmd hello", "crmd ping",
		"stonith-ng register", "stonith-ng st_query", "stonith-ng st_fence_history", "attrd query"} {
		if !ops[want] {
			t.Errorf("no %s replayed; ops %v", want, ops)
		}
	}

	// A property added since: each CIB query diverges, by that element alone.
	set := `<cluster_property_set id="replay-test"><nvpair id="replay-test-p" name="replay-test-p" value="1"/></cluster_property_set>`
	c.MustExec(t, "cibadmin", "-C", "-o", "crm_config", "-X", set)
	defer mustExecOK(c, "cibadmin", "-D", "-o", "crm_config", "-X", `<cluster_property_set id="replay-test"/>`)
	code, rep, _ = replay(t, c, file)
	t.Logf("changed CIB: exit %d, totals %+v", code, rep.Totals)
	queries := 0
	for _, r := range rep.Results {
		isQuery := r.Op == "cib_query"
		if isQuery {
			queries++
		}
		switch {
		case isQuery && r.Outcome != "diverged", !isQuery && r.Outcome != "matched":
			t.Errorf("%s %s from %s: %s %s", r.Service, r.Op, r.Comm, r.Outcome, r.Error)
		case isQuery:
			if len(r.Diffs) != 1 || r.Diffs[0].Kind != "added" ||
				!strings.HasSuffix(r.Diffs[0].Path, "/configuration/crm_config/cluster_property_set[@id='replay-test']") ||
				!strings.Contains(r.Diffs[0].Live, `name="replay-test-p"`) {
				t.Errorf("%s %s from %s: diffs %+v", r.Service, r.Op, r.Comm, r.Diffs)
			}
		}
	}
	if code != 1 || queries < 2 || rep.Totals.Diverged != queries || rep.Totals.Failed != 0 {
		t.Errorf("exit %d, %d queries, totals %+v", code, queries, rep.Totals)
	}
	// The text report shows the difference.
	out, _ := exec.Command(pcmkTrace(t), "replay", "--ns-of", fmt.Sprint(c.InitPID), file).Output()
	if !bytes.Contains(out, []byte("+ /cib-reply/cib_calldata/cib/configuration/crm_config/cluster_property_set[@id='replay-test']: live <cluster_property_set")) {
		t.Errorf("text report:\n%s", out)
	}
}

func testWrite(t *testing.T, c *testcluster.Cluster) {
	const name = "replay-test-w"
	get := func() string {
		out, _ := c.Exec(context.Background(), "crm_attribute", "-t", "crm_config", "-n", name, "-G", "-q")
		return strings.TrimSpace(string(out))
	}
	file := record(t, c, "w.pcapng", func() {
		c.MustExec(t, "crm_attribute", "-t", "crm_config", "-n", name, "-v", "1")
	})
	c.MustExec(t, "crm_attribute", "-t", "crm_config", "-n", name, "-D")
	t.Cleanup(func() { mustExecOK(c, "crm_attribute", "-t", "crm_config", "-n", name, "-D") })
	if v := get(); v != "" {
		t.Fatalf("%s still set: %q", name, v)
	}

	code, rep, stderr := replay(t, c, file)
	t.Logf("without --allow-writes: exit %d, totals %+v", code, rep.Totals)
	if code != 0 || rep.Totals.Refused != 1 || rep.Totals.Failed != 0 || rep.Totals.Diverged != 0 {
		t.Fatalf("exit %d, totals %+v, stderr %s\n%+v", code, rep.Totals, stderr, rep.Results)
	}
	for _, r := range rep.Results {
		if (r.Outcome == "refused") != (r.Op == "cib_modify") {
			t.Errorf("%s %s: %s", r.Service, r.Op, r.Outcome)
		}
	}
	if v := get(); v != "" {
		t.Fatalf("the refused write reached the CIB: %s=%q", name, v)
	}

	code, rep, stderr = replay(t, c, file, "--allow-writes")
	t.Logf("with --allow-writes: exit %d, totals %+v", code, rep.Totals)
	if code != 0 || rep.Totals.Refused != 0 || rep.Totals.Matched != rep.Totals.Requests {
		t.Fatalf("exit %d, totals %+v, stderr %s\n%+v", code, rep.Totals, stderr, rep.Results)
	}
	if v := get(); v != "1" {
		t.Fatalf("after the replay %s=%q, want 1", name, v)
	}
}

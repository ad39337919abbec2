//go:build linux && amd64

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestRecordDaemonRespawn kills pacemaker-based, -controld and -execd in turn under a running
// recorder; pacemakerd starts each again. The recorder goes on: the new processes' messages
// are recorded, the old connections' disconnects and the new connections are in the capture,
// and decode pairs no reply with a request across a disconnect.
func TestRecordDaemonRespawn(t *testing.T) {
	testcluster.RequireRoot(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel})
			dialect := "A"
			if rel != "bookworm" && rel != "trixie" {
				dialect = "B" // Pacemaker 3.0.1 and later
			}
			// The C client is built against the host's libqb and runs in the host's root:
			// the request in flight is checked on bookworm, the host's release.
			var cibload string
			if rel == "bookworm" {
				cibload = buildCibload(t)
			}
			file := filepath.Join(t.TempDir(), "respawn.pcapng")
			rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID))
			stopLoad := queryLoop(t, c, 200*time.Millisecond)
			// pacemaker-based last: pacemakerd 2.1 may not start it again ("until
			// cluster returns"), and the cluster is then restarted for the next tests.
			daemons := []string{"pacemaker-controld", "pacemaker-execd", "pacemaker-based"}
			type kill struct{ old, new uint32 } // pids in the sandbox; new 0: not respawned
			kills := map[string]kill{}
			broken := false
			var pending *exec.Cmd
			for _, d := range daemons {
				old := sandboxPID(t, c, d)
				if d == "pacemaker-based" && cibload != "" {
					// A request in flight when the daemon dies: a C client querying back
					// to back, then the daemon stopped so that its last query waits.
					pending = c.Command(context.Background(), cibload, "-d", dialect, "-n", "1000000", "-t", "600")
					if err := pending.Start(); err != nil {
						t.Fatal(err)
					}
					time.Sleep(time.Second)
					c.MustExec(t, "kill", "-STOP", fmt.Sprint(old))
					time.Sleep(500 * time.Millisecond)
				}
				c.MustExec(t, "kill", "-KILL", fmt.Sprint(old))
				n := waitRespawn(t, c, d, old)
				if n == 0 {
					// pacemakerd's decision, not the recorder's: 2.1 logs "Not respawning";
					// 3.0 on a loaded machine once left based down for minutes saying nothing.
					// The cluster is restarted for the next tests; what was respawned is checked.
					log, _ := c.Exec(context.Background(), "grep", "-h", "Not respawning "+d, "/var/log/pacemaker/pacemaker.log")
					t.Logf("%s: pid %d killed, not started again in 2 minutes; pacemakerd: %q", d, old, strings.TrimSpace(string(log)))
					broken = true
				} else if out, ok := dcWithin(c, 3*time.Minute); !ok {
					// Also the cluster's affair: the recorder is checked on what was
					// recorded, and the next tests get a fresh cluster.
					t.Logf("%s: pid %d killed, pid %d started, no DC with quorum 3 minutes later:\n%s", d, old, n, out)
					broken = true
				} else {
					t.Logf("%s: pid %d killed, pid %d started", d, old, n)
				}
				kills[d] = kill{old, n}
			}
			respawned := 0
			for _, k := range kills {
				if k.new != 0 {
					respawned++
				}
			}
			if respawned == 0 {
				t.Fatal("pacemakerd started none of the killed daemons again: nothing to check")
			}
			if pending != nil && pending.Wait() == nil {
				t.Error("cibload went on after pacemaker-based was killed")
			}
			if !broken {
				c.MustExec(t, "cibadmin", "-Q")
			}
			time.Sleep(time.Second)
			stopLoad()
			rec.stop(t)
			if broken {
				if out, err := c.Down(); err != nil {
					t.Fatalf("testcluster down: %v\n%s", err, out)
				}
				if out, err := c.Up(); err != nil {
					t.Fatalf("testcluster up: %v\n%s", err, out)
				}
			}

			recs := readAll(t, file)
			for _, d := range daemons {
				k := kills[d]
				comm := d[:min(len(d), 15)]
				var newMsgs, oldDisc, newConn int
				for _, r := range recs {
					switch {
					case r.Kind == capfile.KindMessage && r.NSPID == k.new && r.Comm == comm:
						newMsgs++
					case r.Kind == capfile.KindDisconnect && (r.ClientPID == k.old || r.ServerPID == k.old):
						oldDisc++
					case r.Kind == capfile.KindConnect && (r.ClientPID == k.new || r.ServerPID == k.new):
						newConn++
					}
				}
				t.Logf("%s: %d messages by the new process, %d disconnects of the old one, %d connections of the new one", d, newMsgs, oldDisc, newConn)
				if oldDisc == 0 {
					t.Errorf("%s: no disconnect recorded for the killed process %d", d, k.old)
				}
				if k.new == 0 {
					continue
				}
				if newMsgs == 0 {
					t.Errorf("%s: nothing recorded from the respawned process %d", d, k.new)
				}
				if newConn == 0 {
					t.Errorf("%s: no connection recorded for the respawned process %d", d, k.new)
				}
			}
			client := ""
			if cibload != "" {
				client = "cibload"
			}
			checkNoPairAcrossDisconnect(t, file, client)
		})
	}
}

// checkNoPairAcrossDisconnect decodes file with lifecycle records and fails when a reply is
// paired with a request of another connection, or across a disconnect of its connection, or
// when more than one request of the client comm, if not "" (one was in flight when its server was
// killed) is left unanswered.
func checkNoPairAcrossDisconnect(t *testing.T, file, comm string) {
	t.Helper()
	msgs, _ := decodeFile(t, decode.Options{Lifecycle: true}, file)
	bySeq := map[uint64]*decode.Message{}
	gone := map[string]uint64{} // connection -> Seq of its disconnect
	var pairs, disconnects int
	var requests []*decode.Message // of comm
	answered := map[uint64]*decode.Message{}
	for _, m := range msgs {
		switch m.Kind {
		case decode.KindDisconnect:
			gone[m.Conn] = m.Seq
			disconnects++
			continue
		case decode.KindMessage:
		default:
			continue
		}
		bySeq[m.Seq] = m
		if m.Comm == comm && m.Role == decode.RoleRequest {
			requests = append(requests, m)
		}
		if m.ReplyTo == nil {
			continue
		}
		pairs++
		answered[m.ReplyTo.Seq] = m
		req := bySeq[m.ReplyTo.Seq]
		if req == nil {
			continue
		}
		if req.Conn != m.Conn {
			t.Errorf("reply #%d (%s) on %s paired by %s with request #%d (%s) on %s",
				m.Seq, m.Op, m.Conn, m.ReplyTo.By, req.Seq, req.Op, req.Conn)
		}
		for _, conn := range []string{req.Conn, m.Conn} {
			if d, ok := gone[conn]; ok && d > req.Seq && d < m.Seq {
				t.Errorf("reply #%d (%s) paired by %s with request #%d (%s) across the disconnect #%d of %s",
					m.Seq, m.Op, m.ReplyTo.By, req.Seq, req.Op, d, conn)
			}
		}
	}
	t.Logf("%d pairs, %d disconnects", pairs, disconnects)
	if comm == "" {
		return
	}
	// Every request of comm is answered on its own connection (checked above), but for at
	// most the one in flight when its server was killed.
	var unanswered []*decode.Message
	for _, r := range requests {
		if answered[r.Seq] == nil {
			unanswered = append(unanswered, r)
		}
	}
	switch {
	case len(requests) == 0:
		t.Errorf("no request of %s recorded", comm)
	case len(unanswered) > 1:
		t.Errorf("%d requests of %s unanswered, want at most the one in flight when its server was killed", len(unanswered), comm)
	case len(unanswered) == 1:
		t.Logf("%d requests of %s; #%d (%s), in flight when its server was killed, unanswered", len(requests), comm, unanswered[0].Seq, unanswered[0].Op)
	default:
		last := requests[len(requests)-1]
		t.Logf("%d requests of %s, all answered; the last, #%d, by #%d (%s)", len(requests), comm, last.Seq, answered[last.Seq].Seq, answered[last.Seq].ReplyTo.By)
	}
}

// TestRecordClusterRestart stops the whole sandboxed cluster and starts the same instance
// again under a running recorder: the new cluster's messages are recorded too (uprobes attach
// per inode of libqb, and the new processes map the same file).
func TestRecordClusterRestart(t *testing.T) {
	c := testcluster.RequireConfig(t, testcluster.Config{Release: "bookworm"})
	file := filepath.Join(t.TempDir(), "restart.pcapng")
	// No --ns-of: the new cluster gets a new pid namespace. Its processes are told apart
	// by their pid namespace in the records and by time.
	rec := startRecorder(t, "-w", file, "--service", "cib_rw,cib_ro,crmd,attrd")
	oldNS := pidNS(t, c.InitPID)
	c.MustExec(t, "cibadmin", "-Q")
	down := time.Now()
	if out, err := c.Down(); err != nil {
		t.Fatalf("testcluster down: %v\n%s", err, out)
	}
	if out, err := c.Up(); err != nil {
		t.Fatalf("testcluster up: %v\n%s", err, out)
	}
	up := time.Now()
	// The kernel may give the new namespace the old one's inode number: time tells the
	// clusters apart, as nothing of the first runs once down returned.
	newNS := pidNS(t, c.InitPID)
	for range 3 {
		c.MustExec(t, "cibadmin", "-Q")
	}
	time.Sleep(time.Second)
	rec.stop(t)
	var before, after int
	for _, r := range readAll(t, file) {
		switch {
		case r.Kind != capfile.KindMessage:
		case r.PIDNS == oldNS && r.Time.Before(down):
			before++
		case r.PIDNS == newNS && r.Time.After(up):
			after++
		}
	}
	t.Logf("messages: %d from the first cluster, %d from the second (pid namespaces %d, %d)", before, after, oldNS, newNS)
	if before == 0 {
		t.Error("nothing recorded from the cluster before the restart")
	}
	if after < 6 {
		t.Errorf("%d messages recorded from the restarted cluster, want at least its 3 queries and replies", after)
	}
}

// TestRecordDiskFull records onto a 1 MiB tmpfs until it is full: the recorder stops with an
// error naming the cause, the file reads to its last whole block, and the summary says how
// many messages and bytes were not written, which with those in the file make all it took in.
func TestRecordDiskFull(t *testing.T) {
	c := testcluster.Require(t)
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=1m", "pcmk-trace-full", dir).CombinedOutput(); err != nil {
		testcluster.Skip(t, fmt.Sprintf("mount tmpfs: %v %s", err, out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	file := filepath.Join(dir, "full.pcapng")
	rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID))
	stopLoad := queryLoop(t, c, 0)
	defer stopLoad()
	var err error
	select {
	case err = <-rec.done:
	case <-time.After(5 * time.Minute):
		rec.cancel()
		<-rec.done
		t.Fatalf("the recorder did not stop on a full disk:\n%s", rec.stderr.String())
	}
	stopLoad()
	stderr := rec.stderr.String()
	t.Logf("record: %v\n%s", err, stderr)
	if err == nil || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("record returned %v, want an error saying the disk is full", err)
	}
	m := regexp.MustCompile(`(?m)^(\d+) messages, `).FindStringSubmatch(stderr)
	nw := regexp.MustCompile(`not written: (\d+) messages, .* \((\d+) bytes\)`).FindStringSubmatch(stderr)
	if m == nil || nw == nil {
		t.Fatalf("the summary does not say what was not written:\n%s", stderr)
	}
	took, _ := strconv.ParseUint(m[1], 10, 64)
	lostN, _ := strconv.ParseUint(nw[1], 10, 64)
	lostB, _ := strconv.ParseUint(nw[2], 10, 64)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var inFile, inBytes uint64
	for {
		r, err := cr.Next()
		var fe *capfile.FormatError
		if errors.As(err, &fe) {
			continue
		}
		if errors.Is(err, io.EOF) || errors.Is(err, capfile.ErrTruncated) {
			break
		}
		if err != nil {
			t.Fatalf("the file up to the full disk does not read: %v", err)
		}
		if r.Kind == capfile.KindMessage {
			inFile++
			inBytes += uint64(len(r.Data))
		}
	}
	t.Logf("took in %d messages; %d (%d bytes) in the file, %d (%d bytes) not written", took, inFile, inBytes, lostN, lostB)
	if inFile < 10 || lostN == 0 || lostB == 0 || inFile+lostN != took {
		t.Errorf("the file holds %d messages and %d were not written, but the recorder took in %d", inFile, lostN, took)
	}
}

// TestRecordKilled kills the recorder with SIGKILL: its file reads to its last whole block and
// decode says the capture ends without the recorder's closing statistics, which a recorder
// stopped in order writes.
func TestRecordKilled(t *testing.T) {
	c := testcluster.Require(t)
	bin := buildPcmkTrace(t)
	dir := t.TempDir()

	// Stopped in order: statistics, and decode says nothing of them.
	whole := filepath.Join(dir, "whole.pcapng")
	rec := startRecorder(t, "-w", whole, "--ns-of", fmt.Sprint(c.InitPID))
	c.MustExec(t, "cibadmin", "-Q")
	time.Sleep(500 * time.Millisecond)
	rec.stop(t)
	if _, stderr := decodeCommand(t, whole); strings.Contains(stderr, "closing statistics") {
		t.Errorf("decode of a whole capture: %s", stderr)
	}

	killed := filepath.Join(dir, "killed.pcapng")
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command(bin, "record", "-w", killed, "--ns-of", fmt.Sprint(c.InitPID), "--ready-file", ready)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitFile(t, ready)
	stopLoad := queryLoop(t, c, 50*time.Millisecond)
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(100 * time.Millisecond) {
		if fi, err := os.Stat(killed); err == nil && fi.Size() > 256<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorder wrote less than 256 KiB in 2 minutes")
		}
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	stopLoad()

	var n int
	f, err := os.Open(killed)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	for {
		r, err := cr.Next()
		if errors.Is(err, io.EOF) || errors.Is(err, capfile.ErrTruncated) {
			break
		}
		if err != nil {
			t.Fatalf("after %d messages: %v", n, err)
		}
		if r.Kind == capfile.KindMessage {
			n++
		}
	}
	if _, ok := cr.Stats(); ok {
		t.Error("a killed recorder's file has closing statistics")
	}
	out, stderr := decodeCommand(t, killed)
	t.Logf("killed recorder: %d messages read; decode: %s", n, stderr)
	if n == 0 || strings.Count(out, "\n") < n/2 {
		t.Errorf("%d messages in the file, decode printed %d lines", n, strings.Count(out, "\n"))
	}
	if !strings.Contains(stderr, "the capture ends without the recorder's closing statistics (was it killed?)") {
		t.Errorf("decode does not say the statistics are missing: %s", stderr)
	}
}

// decodeFile runs pcmk-trace decode on file and returns its output and standard error.
func decodeCommand(t *testing.T, file string) (string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	if err := run(context.Background(), []string{"decode", file}, &stdout, &stderr); err != nil {
		var ec exitCode
		if !errors.As(err, &ec) {
			t.Fatalf("decode %s: %v\n%s", file, err, stderr.String())
		}
	}
	return stdout.String(), stderr.String()
}

// readAll returns every record of file and fails on an error.
func readAll(t *testing.T, file string) []*capfile.Record {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var recs []*capfile.Record
	for {
		r, err := cr.Next()
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		recs = append(recs, r)
	}
}

// queryLoop runs cibadmin -Q in the sandbox, pause between runs, until the returned function
// is called.
func queryLoop(t *testing.T, c *testcluster.Cluster, pause time.Duration) func() {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		for ctx.Err() == nil {
			c.Command(ctx, "cibadmin", "-Q").Run()
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	})
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// sandboxPID returns the pid in the sandbox of the process named name.
func sandboxPID(t *testing.T, c *testcluster.Cluster, name string) uint32 {
	t.Helper()
	out, err := c.Exec(context.Background(), "pidof", name)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	if len(f) != 1 {
		t.Fatalf("pidof %s: %q", name, out)
	}
	p, err := strconv.ParseUint(f[0], 10, 32)
	if err != nil {
		t.Fatal(err)
	}
	return uint32(p)
}

// waitRespawn waits until pacemakerd started name again and returns its new pid, or 0 after
// 2 minutes.
func waitRespawn(t *testing.T, c *testcluster.Cluster, name string, old uint32) uint32 {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, err := c.Exec(context.Background(), "pidof", name)
		if f := strings.Fields(string(out)); err == nil && len(f) == 1 && f[0] != fmt.Sprint(old) {
			p, _ := strconv.ParseUint(f[0], 10, 32)
			return uint32(p)
		}
	}
	return 0
}

// waitDC waits until the node is DC again with quorum.
func waitDC(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	if out, ok := dcWithin(c, 3*time.Minute); !ok {
		t.Fatalf("no DC with quorum 3 minutes after the kill:\n%s", out)
	}
}

// dcWithin waits at most d for node1 to be DC with quorum; it returns crm_mon's last output.
func dcWithin(c *testcluster.Cluster, d time.Duration) ([]byte, bool) {
	var out []byte
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		out, _ = c.Exec(context.Background(), "crm_mon", "-1")
		if strings.Contains(string(out), "partition with quorum") && strings.Contains(string(out), "Current DC: node1") {
			return out, true
		}
	}
	return out, false
}

// pidNS returns the pid namespace inode of host process pid.
func pidNS(t *testing.T, pid int) uint32 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/pid", pid), &st); err != nil {
		t.Fatal(err)
	}
	return uint32(st.Ino)
}

// waitFile waits up to a minute for path to exist.
func waitFile(t *testing.T, path string) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not appear in a minute", path)
		}
	}
}

// builtOnce is a program a test binary builds once, on first use.
type builtOnce struct {
	once sync.Once
	path string
	err  error
}

// get builds the program named name with the command build (its output path last) once.
func (b *builtOnce) get(name string, build ...string) (string, error) {
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", name)
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		args := append(append([]string(nil), build[1:]...), b.path)
		if out, err := exec.Command(build[0], args...).CombinedOutput(); err != nil {
			b.err = fmt.Errorf("build %s: %v\n%s", name, err, out)
		}
	})
	return b.path, b.err
}

var cibloadBin, pcmkTraceBin builtOnce

// buildCibload builds bench/cibload once.
func buildCibload(t *testing.T) string {
	t.Helper()
	path, err := cibloadBin.get("cibload", "cc", "-O2", "../../bench/cibload.c", "-lqb", "-o")
	if err != nil {
		testcluster.Skip(t, err.Error())
	}
	return path
}

// buildPcmkTrace builds the pcmk-trace command once, for tests that run it as a process.
func buildPcmkTrace(t *testing.T) string {
	t.Helper()
	path, err := pcmkTraceBin.get("pcmk-trace", "go", "build", "-o")
	if err != nil {
		t.Fatal(err)
	}
	return path
}

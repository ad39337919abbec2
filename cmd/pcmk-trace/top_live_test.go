//go:build linux && amd64

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// topLoadOps and topLoadRate shape the test load: synchronous cib_ro queries, at most
// topLoadRate a second, so it lasts at least 5 seconds however fast the machine is
// (a run at 14,000 queries/s gave the view too few whole intervals within the load).
const (
	topLoadOps  = 50000
	topLoadRate = 10000
)

// loadProgress is the load's own count: queries done by each time.
type loadProgress struct {
	at  []time.Time
	ops []float64
}

// runLoad runs cibload -n topLoadOps -r topLoadRate -p in the sandbox and returns its progress.
func runLoad(t *testing.T, c *testcluster.Cluster, bin string) *loadProgress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := c.Command(ctx, bin, "-n", strconv.Itoa(topLoadOps), "-r", strconv.Itoa(topLoadRate), "-p")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("cibload: %v: %s", err, stderr.String())
	}
	t.Logf("cibload: %s", bytes.TrimSpace(stdout.Bytes()))
	p := &loadProgress{}
	for _, m := range regexp.MustCompile(`progress (\d+) (\d+)`).FindAllStringSubmatch(stderr.String(), -1) {
		ns, _ := strconv.ParseInt(m[1], 10, 64)
		ops, _ := strconv.ParseFloat(m[2], 64)
		p.at = append(p.at, time.Unix(0, ns))
		p.ops = append(p.ops, ops)
	}
	if len(p.at) < 2 {
		t.Fatalf("cibload reported no progress: %s", stderr.String())
	}
	return p
}

// count returns the queries done by time x, interpolated between reports.
func (p *loadProgress) count(x time.Time) float64 {
	for i := 1; i < len(p.at); i++ {
		if !x.After(p.at[i]) {
			f := float64(x.Sub(p.at[i-1])) / float64(p.at[i].Sub(p.at[i-1]))
			return p.ops[i-1] + f*(p.ops[i]-p.ops[i-1])
		}
	}
	return p.ops[len(p.ops)-1]
}

// viewInterval is one interval of the view: its end, width and cib_query requests.
type viewInterval struct {
	end      time.Time
	width    time.Duration
	requests float64
}

// checkRate compares the view's cib_query requests, over its intervals that
// fall within the load, with what the load counted itself over the same time.
func checkRate(t *testing.T, view []viewInterval, load *loadProgress) {
	t.Helper()
	var seen, counted float64
	var span time.Duration
	for _, v := range view {
		start := v.end.Add(-v.width)
		if start.Before(load.at[0]) || v.end.After(load.at[len(load.at)-1]) {
			continue
		}
		seen += v.requests
		counted += load.count(v.end) - load.count(start)
		span += v.width
	}
	// Two whole intervals at least; their widths are each a second give or take microseconds.
	if span < 1900*time.Millisecond {
		t.Fatalf("only %v of the view's intervals fall within the load: %+v", span, view)
	}
	d := seen/counted - 1
	msg := fmt.Sprintf("over %v the view shows %.0f cib_query requests/s, the load counted %.0f/s itself (%+.1f%%)",
		span, seen/span.Seconds(), counted/span.Seconds(), d*100)
	if d > 0.15 || d < -0.15 {
		t.Error(msg)
	} else {
		t.Log(msg)
	}
}

// tmux runs tmux commands on a server of the test's own.
type tmux struct {
	t      *testing.T
	socket string
}

func (x *tmux) run(args ...string) string {
	x.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", x.socket}, args...)...).CombinedOutput()
	if err != nil {
		x.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestTopTerminal runs pcmk-trace top in a real terminal (a tmux pane)
// against the sandboxed cluster under a load: the view shows cib_ro's
// cib_query at the rate the load counted itself, and q leaves the
// alternate screen with the cursor shown.
func TestTopTerminal(t *testing.T) {
	c := testcluster.Require(t)
	if _, err := exec.LookPath("tmux"); err != nil {
		testcluster.Skip(t, "tmux not installed (run scripts/deps)")
	}
	load := buildCibload(t)
	dir := t.TempDir()
	bin := buildPcmkTrace(t)
	x := &tmux{t: t, socket: fmt.Sprintf("pcmk-trace-test-%d", os.Getpid())}
	ready := filepath.Join(dir, "ready")
	// The pane's shell keeps top's exit status: tmux at times left top a zombie it did not
	// reap (pane dead, no status) on a busy machine.
	status := filepath.Join(dir, "status")
	x.run("new-session", "-d", "-s", "top", "-x", "150", "-y", "40",
		fmt.Sprintf("%s top --ns-of %d --ready-file %s; echo $? >%s", bin, c.InitPID, ready, status), ";",
		"set-option", "-t", "top", "remain-on-exit", "on")
	defer exec.Command("tmux", "-L", x.socket, "kill-server").Run()
	raw := filepath.Join(dir, "raw")
	x.run("pipe-pane", "-t", "top", "cat >"+raw) // what top writes to the terminal
	if !waitFor(func() bool { _, err := os.Stat(ready); return err == nil }, 60*time.Second) {
		t.Fatalf("top did not attach:\n%s", x.run("capture-pane", "-p", "-t", "top"))
	}
	if !waitFor(func() bool { return strings.Contains(x.run("capture-pane", "-p", "-t", "top"), "msg/s") }, 30*time.Second) {
		t.Fatalf("no header drawn:\n%s", x.run("capture-pane", "-p", "-t", "top"))
	}
	if on := x.run("display-message", "-p", "-t", "top", "#{alternate_on}"); strings.TrimSpace(on) != "1" {
		t.Errorf("top is not on the alternate screen: %q", on)
	}

	// Watch the screen while the load runs: the requests between two changes
	// of the cib_query row's total are the difference of the totals.
	row := regexp.MustCompile(`cib_ro +cib_query +([\d.]+) +(\d+) `)
	var view []viewInterval
	var last string
	total, prevTotal := -1, -1
	var prevAt time.Time
	watch := func() {
		sc := x.run("capture-pane", "-p", "-t", "top")
		at := time.Now()
		last = sc
		m := row.FindStringSubmatch(sc)
		if m == nil {
			return
		}
		n, _ := strconv.Atoi(m[2])
		if n != prevTotal {
			if prevTotal >= 0 {
				view = append(view, viewInterval{end: at, width: at.Sub(prevAt), requests: float64(n - prevTotal)})
			}
			prevAt, prevTotal = at, n
		}
		total = n
	}
	loadDone := make(chan *loadProgress, 1)
	go func() { loadDone <- runLoad(t, c, load) }()
	var progress *loadProgress
	for progress == nil {
		select {
		case progress = <-loadDone:
		case <-time.After(20 * time.Millisecond):
			watch()
		}
	}
	for end := time.Now().Add(2500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		watch() // the interval the load ended in
	}
	if total < 0 {
		t.Fatalf("no cib_ro cib_query row on the screen:\n%s", last)
	}
	if total != topLoadOps && !regexp.MustCompile(`lost \d+ \([1-9]\d* total\)`).MatchString(last) {
		t.Errorf("total cib_query requests %d, the load sent %d and nothing was lost:\n%s", total, topLoadOps, last)
	}
	checkRate(t, view, progress)

	// q ends top; the terminal has left the alternate screen and shows the cursor.
	x.run("send-keys", "-t", "top", "q")
	format := func(f string) string { return strings.TrimSpace(x.run("display-message", "-p", "-t", "top", f)) }
	exited := func() string { b, _ := os.ReadFile(status); return strings.TrimSpace(string(b)) }
	if !waitFor(func() bool { return exited() != "" }, 45*time.Second) {
		// Where top is: every goroutine's stack, through SIGQUIT, if Go code still runs.
		exec.Command("pkill", "-QUIT", "-f", bin+" top").Run()
		time.Sleep(2 * time.Second)
		out, _ := os.ReadFile(raw)
		t.Fatalf("q did not end top:\n%s\n%s", x.run("capture-pane", "-p", "-t", "top"), out[max(0, len(out)-20000):])
	}
	if st := exited(); st != "0" {
		t.Errorf("top exited with status %s", st)
	}
	if on := format("#{alternate_on}"); on != "0" {
		t.Errorf("the terminal is still on the alternate screen after q (alternate_on %q)", on)
	}
	out, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	checkRestored(t, string(out))
}

// checkRestored checks that what top wrote to a terminal ends by leaving the
// alternate screen and showing the cursor.
func checkRestored(t *testing.T, out string) {
	t.Helper()
	tail := out[max(strings.LastIndex(out, "cib_query"), 0):]
	if !strings.Contains(tail, "\x1b[?1049l") || strings.LastIndex(out, "\x1b[?25h") < strings.LastIndex(out, "\x1b[?25l") {
		t.Errorf("the terminal was not restored: it ends with %q", tail[max(len(tail)-300, 0):])
	}
}

// TestTopBatchJSON runs top --batch -f json -w FILE without a terminal
// against the sandboxed cluster under a load; FILE holds what it showed.
func TestTopBatchJSON(t *testing.T) {
	c := testcluster.Require(t)
	load := buildCibload(t)
	ready := filepath.Join(t.TempDir(), "ready")
	file := filepath.Join(t.TempDir(), "shown.pcapng")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"top", "--batch", "-f", "json", "-w", file, "--ns-of", strconv.Itoa(c.InitPID), "--ready-file", ready}, &stdout, &stderr)
	}()
	if !waitFor(func() bool { _, err := os.Stat(ready); return err == nil }, 60*time.Second) {
		t.Fatalf("top did not attach: %s", stderr.String())
	}
	progress := runLoad(t, c, load)
	time.Sleep(2500 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("top: %v\n%s", err, stderr.String())
	}
	var view []viewInterval
	var total uint64
	var lost uint64
	for _, l := range parseTopJSON(t, []byte(stdout.String())) {
		switch {
		case l.Messages != nil:
			if l.Lost == nil {
				t.Errorf("header without lost: %+v", l)
			} else {
				lost += *l.Lost
			}
			// an interval, without cib_query requests until a row says otherwise
			view = append(view, viewInterval{end: l.Time, width: time.Duration(l.IntervalNS)})
		case l.Service == "cib_ro" && l.Op == "cib_query":
			view[len(view)-1].requests = float64(l.Requests)
			total = l.Total
		}
	}
	if total != topLoadOps && lost == 0 {
		t.Errorf("total cib_query requests %d, the load sent %d and nothing was lost", total, topLoadOps)
	}
	checkRate(t, view, progress)

	var stats bytes.Buffer
	if err := run(context.Background(), []string{"stats", "--table", "ops", "-f", "json", "--service", "cib_ro", "--op", "cib_query", file}, &stats, &stderr); err != nil {
		t.Fatalf("stats -w's file: %v\n%s", err, stderr.String())
	}
	if want := fmt.Sprintf(`"requests":%d,`, total); !strings.Contains(stats.String(), want) {
		t.Errorf("-w's file: %s; want %s", stats.String(), want)
	}
}

func waitFor(f func() bool, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return true
		}
	}
	return false
}

// TestTopTerminalSIGTERM plays a capture in a pseudo-terminal and ends top
// with SIGTERM: it leaves the alternate screen and shows the cursor again.
func TestTopTerminalSIGTERM(t *testing.T) {
	bin := buildPcmkTrace(t)
	cmd := exec.Command(bin, "top", "--speed", "0.5", "../../testdata/captures/bookworm-workload.pcapng")
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 30, Cols: 120})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen lockedBuffer
	go func() { _, _ = io.Copy(&screen, tty) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if !waitFor(func() bool { return strings.Contains(screen.String(), "cib_query") }, 30*time.Second) {
		cmd.Process.Kill()
		t.Fatalf("no frame drawn:\n%q", screen.String())
	}
	if !strings.Contains(screen.String(), "\x1b[?1049h") {
		t.Errorf("top did not enter the alternate screen")
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("SIGTERM did not end top")
	}
	time.Sleep(200 * time.Millisecond)
	checkRestored(t, screen.String())
}

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
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// topLoadOps is the size of the test load: a few seconds of synchronous cib_ro queries.
const topLoadOps = 30000

// cibLoad is bench/cibload built for the sandbox.
func cibLoad(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "cibload")
	if out, err := exec.Command("cc", "-O2", "-o", bin, "../../bench/cibload.c", "-lqb").CombinedOutput(); err != nil {
		testcluster.Skip(t, fmt.Sprintf("build cibload: %v\n%s", err, out))
	}
	return bin
}

// loadProgress is the load's own count: queries done by each time.
type loadProgress struct {
	at  []time.Time
	ops []float64
}

// runLoad runs cibload -n n -p in the sandbox and returns its progress.
func runLoad(t *testing.T, c *testcluster.Cluster, bin string, n int) *loadProgress {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := c.Command(ctx, bin, "-n", strconv.Itoa(n), "-p")
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
	if span < 2*time.Second {
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

// lockedBuffer collects a pseudo-terminal's output, and when each part came.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	chunks []chunk
}

type chunk struct {
	at  time.Time
	end int // offset in b after it
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.b.Write(p)
	b.chunks = append(b.chunks, chunk{time.Now(), b.b.Len()})
	return n, err
}

// arrival returns when the byte at offset off came.
func (b *lockedBuffer) arrival(off int) time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.chunks {
		if off < c.end {
			return c.at
		}
	}
	return time.Now()
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

var ansiSeq = regexp.MustCompile(`\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])`)

// TestTopTerminal runs pcmk-trace top in a real pseudo-terminal against the
// sandboxed cluster under a load: the view shows cib_ro's cib_query at the
// rate the load measured itself, and q restores the terminal.
func TestTopTerminal(t *testing.T) {
	c := testcluster.Require(t)
	load := cibLoad(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "pcmk-trace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	ready := filepath.Join(dir, "ready")
	cmd := exec.Command(bin, "top", "--ns-of", strconv.Itoa(c.InitPID), "--ready-file", ready)
	cmd.Env = append(os.Environ(), "TERM=xterm-256color")
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 150})
	if err != nil {
		t.Fatal(err)
	}
	defer tty.Close()
	var screen lockedBuffer
	copied := make(chan struct{})
	go func() { _, _ = io.Copy(&screen, tty); close(copied) }()
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	}()
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("top did not attach:\n%q", screen.String())
		}
	}
	if !waitFor(func() bool { return strings.Contains(screen.String(), "msg/s") }, 30*time.Second) {
		t.Fatalf("no header drawn:\n%q", screen.String())
	}
	progress := runLoad(t, c, load, topLoadOps)
	time.Sleep(2500 * time.Millisecond) // the interval the load ended in, and an idle one
	before := screen.String()
	if _, err := tty.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("top: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("q did not end top:\n%q", screen.String())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
	}
	out := screen.String()

	// Each frame redraws the cib_query row (its rate and total change): the
	// requests between two frames are the difference of their totals.
	row := regexp.MustCompile(`cib_ro +cib_query +([\d.]+) +(\d+) `)
	var view []viewInterval
	var prevAt time.Time
	total := -1
	for _, m := range row.FindAllStringSubmatchIndex(before, -1) {
		n, _ := strconv.Atoi(before[m[4]:m[5]])
		at := screen.arrival(m[0])
		if total >= 0 && n != total {
			view = append(view, viewInterval{end: at, width: at.Sub(prevAt), requests: float64(n - total)})
		}
		prevAt, total = at, n
	}
	if total < 0 {
		t.Fatalf("no cib_ro cib_query row on the screen:\n%s", ansiSeq.ReplaceAllString(before, ""))
	}
	if total != topLoadOps && !regexp.MustCompile(`lost \d+ \([1-9]\d* total\)`).MatchString(ansiSeq.ReplaceAllString(before, "")) {
		t.Errorf("total cib_query requests %d, the load sent %d and nothing was lost", total, topLoadOps)
	}
	checkRate(t, view, progress)

	// Quitting leaves the alternate screen and shows the cursor again.
	tail := out[strings.LastIndex(out, "cib_query"):]
	if !strings.Contains(tail, "\x1b[?1049l") || !strings.Contains(tail, "\x1b[?25h") {
		t.Errorf("the terminal was not restored after q: %q", tail)
	}
}

// TestTopBatchJSON runs top --batch -f json without a terminal against the
// sandboxed cluster under a load.
func TestTopBatchJSON(t *testing.T) {
	c := testcluster.Require(t)
	load := cibLoad(t)
	ready := filepath.Join(t.TempDir(), "ready")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"top", "--batch", "-f", "json", "--ns-of", strconv.Itoa(c.InitPID), "--ready-file", ready}, &stdout, &stderr)
	}()
	if !waitFor(func() bool { _, err := os.Stat(ready); return err == nil }, 60*time.Second) {
		t.Fatalf("top did not attach: %s", stderr.String())
	}
	progress := runLoad(t, c, load, topLoadOps)
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
}

func waitFor(f func() bool, d time.Duration) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if f() {
			return true
		}
	}
	return false
}

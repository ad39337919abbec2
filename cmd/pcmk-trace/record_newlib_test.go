//go:build linux && amd64

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestRecordNewLibQB puts a copy of libqb in a new place while the recorder runs, as a
// package upgrade writes a new file, and starts a server and a client that map it: the
// recorder says at once that it probes the new file, and records their whole exchange.
func TestRecordNewLibQB(t *testing.T) {
	testcluster.RequireRoot(t)
	libs, _ := filepath.Glob("/usr/lib/x86_64-linux-gnu/libqb.so.100.*")
	if len(libs) == 0 {
		testcluster.Skip(t, "no /usr/lib/x86_64-linux-gnu/libqb.so.100.*")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "qbpair")
	if out, err := exec.Command("cc", "-O2", "-o", bin, "../../capture/testdata/qbpair.c", "-lqb").CombinedOutput(); err != nil {
		testcluster.Skip(t, fmt.Sprintf("build qbpair: %v\n%s", err, out))
	}
	service := fmt.Sprintf("nl%d", os.Getpid())

	var stderr lockedBuffer
	ready := filepath.Join(dir, "ready")
	file := filepath.Join(dir, "newlib.pcapng")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"record", "-w", file, "--service", service, "--ready-file", ready}, io.Discard, &stderr)
	}()
	waitFile(t, ready)

	// The new file appears only now, as an upgrade's would.
	libdir := filepath.Join(dir, "lib")
	if err := os.Mkdir(libdir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(libs[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(libdir, "libqb.so.100"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "LD_LIBRARY_PATH="+libdir)
	srv := exec.Command(bin, "server", service, "shm", "1048576")
	srv.Env = env
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	bufio.NewReader(out).ReadString('\n')
	if maps, _ := os.ReadFile(fmt.Sprintf("/proc/%d/maps", srv.Process.Pid)); !bytes.Contains(maps, []byte(libdir)) {
		t.Fatalf("the server does not map the copy:\n%s", maps)
	}
	want := fmt.Sprintf("probing new libqb %s/libqb.so.100", libdir)
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(stderr.String(), want); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the recorder did not say it probes the new libqb in 30 s:\n%s", stderr.String())
		}
	}
	cli := exec.Command(bin, "client", service, "1048576", "100", "300000", "5000")
	cli.Env = env
	if b, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("client: %v %s", err, b)
	}
	srv.Wait()
	time.Sleep(300 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("record: %v\n%s", err, stderr.String())
	}
	t.Logf("record:\n%s", stderr.String())
	var n int
	for _, r := range readAll(t, file) {
		if r.Kind == capfile.KindMessage && r.Service == service {
			n++
		}
	}
	if n != 9 {
		t.Errorf("%d messages of the processes on the new libqb recorded, want 9 (3 requests, responses and events)", n)
	}
}

// lockedBuffer is a bytes.Buffer safe to read while another goroutine writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

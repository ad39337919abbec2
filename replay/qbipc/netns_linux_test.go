package qbipc

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestSocketIn creates sockets in another network namespace and checks that abstract
// names resolve there, and that no thread of the process is left in that namespace.
func TestSocketIn(t *testing.T) {
	testcluster.RequireRoot(t) // setns
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skip("needs unshare")
	}
	cmd := exec.Command("unshare", "--net", "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ns := fmt.Sprintf("/proc/%d/ns/net", cmd.Process.Pid)
	own, _ := os.Readlink("/proc/self/ns/net")
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if l, _ := os.Readlink(ns); l != "" && l != own {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("unshare did not make a network namespace")
		}
	}
	name := fmt.Sprintf("qbipc-test-%d", os.Getpid())
	l, err := socketIn(ns, unix.SOCK_STREAM)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(l)
	if err := bindAbstract(l, name); err != nil {
		t.Fatal(err)
	}
	if err := unix.Listen(l, 1); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		fd, err := socketIn(ns, unix.SOCK_STREAM)
		if err != nil {
			t.Fatal(err)
		}
		if err := connectAbstract(fd, name); err != nil {
			t.Fatalf("connect %d in the namespace: %v", i, err)
		}
		unix.Close(fd)
		if nfd, _, err := unix.Accept(l); err == nil {
			unix.Close(nfd)
		}
	}
	fd, _ := socketIn("", unix.SOCK_STREAM)
	if err := connectAbstract(fd, name); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("connect from the own namespace: %v, want ECONNREFUSED", err)
	}
	unix.Close(fd)
	tasks, _ := filepath.Glob("/proc/self/task/*/ns/net")
	for _, task := range tasks {
		if l, _ := os.Readlink(task); l != own {
			t.Errorf("%s is %s, not the process's %s", task, l, own)
		}
	}
}

func TestDialRefused(t *testing.T) {
	_, err := Dial(context.Background(), fmt.Sprintf("qbipc-test-none-%d", os.Getpid()), Options{})
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("Dial of a missing service: %v, want ECONNREFUSED", err)
	}
}

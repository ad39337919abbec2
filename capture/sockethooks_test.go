//go:build linux && amd64

package capture

import (
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// TestSocketHooksLazy: with no process of the socket transport, the recorder leaves its
// syscall hooks off (shared-memory traffic does not turn them on); a socket server
// starting turns them on and says which process it was, and its client's messages are
// all recorded.
func TestSocketHooksLazy(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("ps%d", os.Getpid())
	var mu sync.Mutex
	var seen []SocketTransport
	tr := openTracer(t, Config{Services: []string{service + "-shm", service + "-socket"},
		OnSocketTransport: func(s SocketTransport) { mu.Lock(); seen = append(seen, s); mu.Unlock() }})
	if tr.SocketHooks() {
		t.Skip("a process of the socket transport runs already: the hooks are on from the start")
	}
	runPair(t, bin, service+"-shm", "shm", 1<<20, []int{100, 5000})
	if tr.SocketHooks() {
		t.Error("shared-memory traffic turned the socket transport's hooks on")
	}
	srv, cli := runPair(t, bin, service+"-socket", "socket", 1<<20, []int{100, 5000, 70000})
	msgs := map[string]int{}
	for _, r := range collect(t, tr, 300*time.Millisecond) {
		if r.Kind == capfile.KindMessage {
			msgs[r.Service]++
		}
	}
	if msgs[service+"-shm"] != 6 || msgs[service+"-socket"] != 9 {
		t.Errorf("messages per service %v: want 6 shared-memory and 9 socket", msgs)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 1 {
		t.Fatalf("OnSocketTransport called %d times, want once: %+v", len(seen), seen)
	}
	s := seen[0]
	if s.Err != nil || s.PID != uint32(srv) || s.Comm != "qbpair" || s.Delay <= 0 || s.Delay > 10*time.Second {
		t.Errorf("OnSocketTransport(%+v): want the server, pid %d (client %d), qbpair, a delay", s, srv, cli)
	}
	t.Logf("hooks attached %v after the socket server started", s.Delay)
}

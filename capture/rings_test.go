//go:build linux && amd64

package capture

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// TestCaptureRingReused has one server serve ten clients in turn. The server frees each
// client's rings when it leaves and allocates the next client's, at times at the same
// addresses (seen with ten clients, not always with three): the probe, which caches what it learnt of a ring by its address, must see that
// the address now holds another connection and name every response and event after the
// client it went to.
func TestCaptureRingReused(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pr%d", os.Getpid())
	tr := openTracer(t, Config{Services: []string{service}})

	const clients = 10
	srv := exec.Command(bin, "server", service, "shm", "65536")
	srv.Env = append(os.Environ(), "QBPAIR_CLIENTS="+strconv.Itoa(clients))
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "ready\n" {
		t.Fatalf("server: %q %v", line, err)
	}
	sent := map[int]bool{} // client pids
	for i := 0; i < clients; i++ {
		cli := exec.Command(bin, "client", service, "65536", "100", "200", "300")
		if out, err := cli.CombinedOutput(); err != nil {
			t.Fatalf("client %d: %v\n%s", i, err, out)
		}
		sent[cli.Process.Pid] = true
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server: %v", err)
	}

	perClient := map[uint32]int{}
	for _, r := range collect(t, tr, 500*time.Millisecond) {
		if r.Kind != capfile.KindMessage {
			continue
		}
		if r.Channel == capfile.ChannelRequest {
			if r.PID != r.ClientPID {
				t.Errorf("request written by %d on the connection of client %d", r.PID, r.ClientPID)
			}
			continue
		}
		// Responses and events: written by the server, to the client of the connection.
		if r.PID != uint32(srv.Process.Pid) || !sent[int(r.ClientPID)] {
			t.Errorf("%v message by %d on %s: client %d is none of %v", r.Channel, r.PID, r.Conn, r.ClientPID, sent)
			continue
		}
		if n := perClient[r.ClientPID]; n < 6 && len(r.Data) != [...]int{100, 200, 300}[n/2] {
			t.Errorf("client %d: message %d of %d bytes", r.ClientPID, n, len(r.Data))
		}
		perClient[r.ClientPID]++
	}
	for pid := range sent {
		if perClient[uint32(pid)] != 6 {
			t.Errorf("client %d: %d responses and events recorded, want 6", pid, perClient[uint32(pid)])
		}
	}
}

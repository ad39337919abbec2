//go:build linux && amd64

package capture

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cilium/ebpf"

	"github.com/pcmk-trace/pcmk-trace/capfile"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// requireRoot skips a test that needs BPF privileges, or fails it when CI=true.
func requireRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs root; -short runs only the tests that do not")
	}
	if os.Geteuid() != 0 {
		testcluster.Skip(t, "needs root (BPF programs, uprobes)")
	}
}

// buildQBPair compiles testdata/qbpair.c against the installed libqb.
func buildQBPair(t *testing.T) string {
	t.Helper()
	cc, err := exec.LookPath("cc")
	if err != nil {
		testcluster.Skip(t, "no C compiler to build the libqb test program")
	}
	if _, err := os.Stat("/usr/include/qb/qbipcs.h"); err != nil {
		testcluster.Skip(t, "libqb headers not installed (libqb-dev)")
	}
	bin := filepath.Join(t.TempDir(), "qbpair")
	out, err := exec.Command(cc, "-O2", "-Wall", "-o", bin, "testdata/qbpair.c", "-lqb").CombinedOutput()
	if err != nil {
		t.Fatalf("build qbpair: %v\n%s", err, out)
	}
	return bin
}

// lastTracer is the tracer the running test opened last: runPairBins waits for its socket
// transport's hooks, which a socket server starting after Open has them attach.
var lastTracer *Tracer

func openTracer(t *testing.T, cfg Config) *Tracer {
	t.Helper()
	tr, err := Open(cfg)
	if err == nil {
		lastTracer = tr
		t.Cleanup(func() { lastTracer = nil })
	}
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			t.Fatalf("%+v", ve)
		}
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}

// runPair starts a qbpair server for service, runs a client sending sizes,
// and returns the pids of both once they exited. connected, when not nil,
// runs once the client is connected, before it sends anything.
func runPair(t *testing.T, bin, service, transport string, max int, sizes []int) (server, client int) {
	t.Helper()
	return runPairWait(t, bin, service, transport, max, sizes, nil)
}

func runPairWait(t *testing.T, bin, service, transport string, max int, sizes []int, connected func()) (server, client int) {
	t.Helper()
	return runPairBins(t, bin, bin, service, transport, max, sizes, connected)
}

// runPairBins is runPairWait with the server run from srvBin, a copy of
// qbpair under another name (another command name for the kernel).
func runPairBins(t *testing.T, srvBin, bin, service, transport string, max int, sizes []int, connected func()) (server, client int) {
	t.Helper()
	srv := exec.Command(srvBin, "server", service, transport, strconv.Itoa(max))
	stdout, err := srv.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var srvErr bytes.Buffer
	srv.Stderr = &srvErr
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		t.Fatalf("server: %q %v %s", line, err, srvErr.String())
	}
	if transport == "socket" {
		waitSocketHooks(t, lastTracer)
	}
	args := []string{"client", service, strconv.Itoa(max)}
	for _, s := range sizes {
		args = append(args, strconv.Itoa(s))
	}
	cli := exec.Command(bin, args...)
	if connected == nil {
		if out, err := cli.CombinedOutput(); err != nil {
			t.Fatalf("client: %v\n%s", err, out)
		}
	} else {
		cli.Env = append(os.Environ(), "QBPAIR_WAIT=1")
		in, err := cli.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cli.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cli.Start(); err != nil {
			t.Fatal(err)
		}
		if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "connected\n" {
			cli.Process.Kill()
			t.Fatalf("client: %q %v", line, err)
		}
		connected()
		in.Write([]byte("go\n"))
		if err := cli.Wait(); err != nil {
			t.Fatalf("client: %v", err)
		}
	}
	if err := srv.Wait(); err != nil {
		t.Fatalf("server: %v\n%s", err, srvErr.String())
	}
	return srv.Process.Pid, cli.Process.Pid
}

// collect reads records until ctx... the tracer is drained after wait.
func collect(t *testing.T, tr *Tracer, wait time.Duration) []*capfile.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	var recs []*capfile.Record
	for {
		r, err := tr.Read(ctx)
		if errors.Is(err, io.EOF) {
			return recs
		}
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
}

// expected builds message i of channel ch as qbpair does.
func expected(ch byte, i uint32, n int) []byte {
	n = max(n, 24)
	m := make([]byte, n)
	binary.LittleEndian.PutUint32(m[0:], i)
	binary.LittleEndian.PutUint32(m[8:], uint32(n))
	hdr := 24
	if ch == 'q' {
		hdr = 16
	}
	for j := hdr; j < n; j++ {
		m[j] = byte(j*131 + int(i)*7 + int(ch)*29 + (j >> 8))
	}
	return m
}

type msgKey struct {
	ch capfile.Channel
	rx bool
	id uint32
}

// waitSocketHooks waits until tr attached the socket transport's hooks, which it does
// once a socket server started (what a client sends before is not recorded).
func waitSocketHooks(t testing.TB, tr *Tracer) {
	t.Helper()
	if tr == nil || tr.noSocket {
		return
	}
	for deadline := time.Now().Add(10 * time.Second); !tr.SocketHooks(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the socket transport's hooks were not attached 10 s after its server started")
		}
	}
}

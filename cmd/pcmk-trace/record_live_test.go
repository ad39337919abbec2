//go:build linux && amd64

package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestRecordFile records a libqb exchange into a file and reads it back.
func TestRecordFile(t *testing.T) {
	testcluster.RequireRoot(t)
	file := filepath.Join(t.TempDir(), "x.pcapng")
	service, _ := recordExchange(t, "-w", file)

	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if fi, _ := f.Stat(); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode())
	}
	checkExchange(t, f, service)
}

// TestRecordToStdout writes the capture to standard output (-w -), for a pipe into
// pcmk-trace decode -.
func TestRecordToStdout(t *testing.T) {
	testcluster.RequireRoot(t)
	service, stdout := recordExchange(t, "-w", "-")
	checkExchange(t, bytes.NewReader(stdout), service)
}

// recordExchange records a qbpair exchange (3 messages of 100 and 3 of 300000 bytes) with
// record ARGS, checks the summary, and returns the service name used and what the recorder
// wrote on its standard output.
func recordExchange(t *testing.T, args ...string) (string, []byte) {
	t.Helper()
	dir := t.TempDir()
	bin := filepath.Join(dir, "qbpair")
	if out, err := exec.Command("cc", "-O2", "-o", bin, "../../capture/testdata/qbpair.c", "-lqb").CombinedOutput(); err != nil {
		testcluster.Skip(t, fmt.Sprintf("build qbpair: %v\n%s", err, out))
	}
	service := fmt.Sprintf("pr%d", os.Getpid())
	rec := startRecorder(t, append(args, "--service", service)...)
	srv := exec.Command(bin, "server", service, "shm", "1048576")
	out, _ := srv.StdoutPipe()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	bufio.NewReader(out).ReadString('\n')
	if b, err := exec.Command(bin, "client", service, "1048576", "100", "300000").CombinedOutput(); err != nil {
		t.Fatalf("client: %v %s", err, b)
	}
	srv.Wait()
	time.Sleep(200 * time.Millisecond)
	rec.stop(t)
	if !strings.Contains(rec.stderr.String(), "6 messages") {
		t.Errorf("summary: %s", rec.stderr.String())
	}
	return service, rec.stdout.Bytes()
}

// checkExchange reads the capture recordExchange made.
func checkExchange(t *testing.T, in io.Reader, service string) {
	t.Helper()
	r, err := capfile.NewReader(in)
	if err != nil {
		t.Fatal(err)
	}
	sec := r.Section()
	if len(sec.LibQB) == 0 || !strings.Contains(sec.CommandLine, "--service "+service) || sec.Host == "" {
		t.Errorf("section %+v", sec)
	}
	kinds := map[capfile.Kind]int{}
	var bytesIn int
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		kinds[rec.Kind]++
		bytesIn += len(rec.Data)
	}
	if kinds[capfile.KindMessage] != 6 || kinds[capfile.KindConnect] != 1 || kinds[capfile.KindDisconnect] != 1 || kinds[capfile.KindLoss] != 0 {
		t.Errorf("records by kind: %v", kinds)
	}
	if want := 3 * (100 + 300000); bytesIn != want {
		t.Errorf("%d message bytes, want %d", bytesIn, want)
	}
}

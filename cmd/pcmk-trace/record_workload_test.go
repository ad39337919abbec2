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
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// sendFuncs are libqb's send functions: every message a libqb client or server sends goes
// through exactly one of them (qb_ipcc_sendv_recv calls qb_ipcc_sendv).
var sendFuncs = []string{
	"qb_ipcc_send", "qb_ipcc_sendv",
	"qb_ipcs_response_send", "qb_ipcs_response_sendv",
	"qb_ipcs_event_send", "qb_ipcs_event_sendv",
}

type sendCount struct{ N, Bytes uint64 }

// TestRecordWorkloadComplete records a scripted workload that touches every daemon and proves
// the capture complete and exact against an independent witness: per process, the number of
// libqb sends that succeeded and the bytes they sent (testdata/sendcount.c, uretprobes on
// libqb's API, nothing shared with the recorder). Every release of the matrix, and the
// socket transport.
func TestRecordWorkloadComplete(t *testing.T) {
	testcluster.RequireRoot(t)
	witness := buildWitness(t)
	cases := []testcluster.Config{}
	for _, rel := range testcluster.Releases() {
		cases = append(cases, testcluster.Config{Release: rel})
	}
	cases = append(cases, testcluster.Config{Release: "bookworm", IPC: "socket"})
	for _, cfg := range cases {
		name := cfg.Release
		if cfg.IPC != "" {
			name += "-" + cfg.IPC
		}
		t.Run(name, func(t *testing.T) {
			c := testcluster.RequireConfig(t, cfg)
			steps := []string{"cib", "mon", "attrd", "fence", "ctl", "resource"}
			if cfg.IPC == "" {
				steps = append(steps, "big")
			}
			testWorkloadComplete(t, c, witness, steps)
		})
	}
}

func testWorkloadComplete(t *testing.T, c *testcluster.Cluster, witness string, steps []string) {
	file := filepath.Join(t.TempDir(), "workload.pcapng")
	rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID))

	// The witness counts only while the recorder certainly runs. The daemons never fall
	// quite silent, so a message may go out while the witness attaches or detaches: the
	// capture is counted between the end of attaching and the start of detaching (at least
	// what the witness saw) and between the start of attaching and the end of detaching (at
	// most what it saw).
	time.Sleep(time.Second)
	attaching := time.Now()
	stop := attachWitness(t, c, witness)
	from := time.Now()
	script, err := os.Open("../../scripts/workload")
	if err != nil {
		t.Fatal(err)
	}
	defer script.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer wcancel()
	cmd := c.Command(wctx, "bash", append([]string{"-s"}, steps...)...)
	cmd.Stdin = script
	if out, err := cmd.CombinedOutput(); err != nil {
		stop()
		t.Fatalf("workload: %v\n%s", err, out)
	}
	time.Sleep(2 * time.Second)
	until := time.Now()
	witnessed := stop()
	detached := time.Now()
	time.Sleep(300 * time.Millisecond)
	rec.stop(t)

	msgs := readCapture(t, file)
	recorded, total, services := countWindow(t, msgs, from, until, true)
	most, _, _ := countWindow(t, msgs, attaching, detached, false)
	var want sendCount
	for _, w := range witnessed {
		want.N += w.N
		want.Bytes += w.Bytes
	}
	t.Logf("%s: witness %d sends, %d bytes; capture %d messages, %d bytes, services %v",
		c.Release, want.N, want.Bytes, total.N, total.Bytes, services)
	if want.N < 100 {
		t.Fatalf("the witness saw only %d sends: the workload did not run?", want.N)
	}
	for _, svc := range []string{"cib_rw", "cib_ro", "cib_shm", "crmd", "attrd", "stonith-ng", "pacemakerd", "pengine", "lrmd"} {
		if svc == "cib_ro" && c.Release != "bookworm" {
			continue // crm_mon 3.0 reads the CIB on cib_rw
		}
		if services[svc] == 0 {
			t.Errorf("no %s message recorded", svc)
		}
	}
	pids := map[uint32]bool{}
	for p := range witnessed {
		pids[p] = true
	}
	for p := range most {
		pids[p] = true
	}
	var keys []uint32
	for p := range pids {
		keys = append(keys, p)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, p := range keys {
		w, lo, hi := witnessed[p], recorded[p], most[p]
		if w.N < lo.N || w.N > hi.N || w.Bytes < lo.Bytes || w.Bytes > hi.Bytes {
			t.Errorf("pid %d (in the sandbox): libqb sent %d messages, %d bytes; the capture holds %d, %d bytes (%d, %d counting the witness's attach and detach)",
				p, w.N, w.Bytes, lo.N, lo.Bytes, hi.N, hi.Bytes)
		}
	}
	if !strings.Contains(rec.stderr.String(), "; 0 lost") {
		t.Errorf("recorder summary reports loss:\n%s", rec.stderr.String())
	}
}

// readCapture returns the capture's messages, and fails on any loss or truncation.
func readCapture(t *testing.T, file string) []*capfile.Record {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*capfile.Record
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return msgs
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch rec.Kind {
		case capfile.KindLoss:
			t.Errorf("loss record: %d lost (%v)", rec.Lost, rec.Cause)
		case capfile.KindMessage:
			if rec.Flags&capfile.FlagTruncated != 0 || uint32(len(rec.Data)) != rec.OrigLen {
				t.Errorf("message %d truncated: %d of %d bytes", rec.Seq, len(rec.Data), rec.OrigLen)
			}
			msgs = append(msgs, rec)
		}
	}
}

// countWindow sums the messages recorded between from and until per writer (pid inside
// the sandbox), and logs the others when logOutside is set.
func countWindow(t *testing.T, msgs []*capfile.Record, from, until time.Time, logOutside bool) (map[uint32]sendCount, sendCount, map[string]int) {
	per := map[uint32]sendCount{}
	services := map[string]int{}
	var total sendCount
	for _, rec := range msgs {
		if rec.Time.Before(from) || rec.Time.After(until) {
			if logOutside {
				t.Logf("outside the window: #%d %v %s(%d) %s %s %d bytes", rec.Seq, rec.Time.Sub(from), rec.Comm, rec.NSPID, rec.Service, rec.Channel, rec.OrigLen)
			}
			continue
		}
		c := per[rec.NSPID]
		c.N++
		c.Bytes += uint64(rec.OrigLen)
		per[rec.NSPID] = c
		total.N++
		total.Bytes += uint64(rec.OrigLen)
		services[rec.Service]++
	}
	return per, total, services
}

var (
	witnessOnce sync.Once
	witnessObj  string
	witnessErr  error
)

// buildWitness compiles testdata/sendcount.c with clang.
func buildWitness(t *testing.T) string {
	witnessOnce.Do(func() {
		clang, err := exec.LookPath("clang-14")
		if err != nil {
			if clang, err = exec.LookPath("clang"); err != nil {
				witnessErr = fmt.Errorf("clang not installed (scripts/deps)")
				return
			}
		}
		dir, err := os.MkdirTemp("", "sendcount")
		if err != nil {
			witnessErr = err
			return
		}
		witnessObj = filepath.Join(dir, "sendcount.o")
		out, err := exec.Command(clang, "-O2", "-g", "-target", "bpf", "-D__TARGET_ARCH_x86",
			"-I/usr/include/x86_64-linux-gnu",
			"-c", "testdata/sendcount.c", "-o", witnessObj).CombinedOutput()
		if err != nil {
			witnessErr = fmt.Errorf("compile sendcount.c: %w\n%s", err, out)
		}
	})
	if witnessErr != nil {
		testcluster.Skip(t, witnessErr.Error())
	}
	return witnessObj
}

// attachWitness loads the witness for the sandbox's pid namespace and attaches it to the
// sandbox's libqb; stop detaches it and returns the counts.
func attachWitness(t *testing.T, c *testcluster.Cluster, obj string) func() map[uint32]sendCount {
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/pid", c.InitPID), &st); err != nil {
		t.Fatal(err)
	}
	spec, err := ebpf.LoadCollectionSpec(obj)
	if err != nil {
		t.Fatal(err)
	}
	if err := spec.Variables["ns_dev"].Set(uint64(st.Dev)); err != nil {
		t.Fatal(err)
	}
	if err := spec.Variables["ns_ino"].Set(st.Ino); err != nil {
		t.Fatal(err)
	}
	coll, err := ebpf.NewCollection(spec)
	if err != nil {
		t.Fatal(err)
	}
	lib := sandboxLibQB(t, c)
	ex, err := link.OpenExecutable(lib)
	if err != nil {
		t.Fatal(err)
	}
	var links []link.Link
	for _, sym := range sendFuncs {
		l, err := ex.Uretprobe(sym, coll.Programs["count_send"], nil)
		if err != nil {
			t.Fatalf("uretprobe %s on %s: %v", sym, lib, err)
		}
		links = append(links, l)
	}
	stop := func() map[uint32]sendCount {
		for _, l := range links {
			l.Close()
		}
		counts := map[uint32]sendCount{}
		var k uint32
		var v sendCount
		it := coll.Maps["sends"].Iterate()
		for it.Next(&k, &v) {
			counts[k] = v
		}
		if err := it.Err(); err != nil {
			t.Error(err)
		}
		coll.Close()
		return counts
	}
	return stop
}

// sandboxLibQB returns the libqb file the sandbox's daemons map, as the host reaches it.
func sandboxLibQB(t *testing.T, c *testcluster.Cluster) string {
	out, err := c.Exec(context.Background(), "sh", "-c", "grep -m1 -o '/[^ ]*libqb.so[^ ]*' /proc/$(pidof pacemaker-based)/maps")
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/proc/%d/root%s", c.InitPID, strings.TrimSpace(string(out)))
}

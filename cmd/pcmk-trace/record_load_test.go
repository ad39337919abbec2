//go:build linux && amd64

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// loadSeconds is how long each load level of TestRecordLoad runs: PCMK_TRACE_LOAD_SECONDS, or 3.
func loadSeconds() int {
	if s, err := strconv.Atoi(os.Getenv("PCMK_TRACE_LOAD_SECONDS")); err == nil && s > 0 {
		return s
	}
	return 3
}

// TestRecordLoad records N concurrent libqb C clients (bench/cibload, CIB queries back to
// back) plus a loop of attrd updates, for N = 1, 2, 8 and 32, and checks the capture against
// the independent witness of record_workload_test.go: every message the daemons and clients
// sent is recorded, byte for byte per process, or the recorder counted the loss exactly
// (recorded + lost = sent). It logs per N the rate, the loss, and the CPU time of
// pacemaker-based and of the recorder's process, which say what limits the rate.
func TestRecordLoad(t *testing.T) {
	c := testcluster.Require(t)
	witness := buildWitness(t)
	cibload := buildCibload(t)
	secs := loadSeconds()
	for _, n := range []int{1, 2, 8, 32} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "load.pcapng")
			rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID))
			based := hostPID(t, c, "pacemaker-based")
			time.Sleep(500 * time.Millisecond)
			attaching := time.Now()
			stop := attachWitness(t, c, witness)
			from := time.Now()
			cpuBased, cpuSelf := procCPU(t, based), selfCPU()
			busy0, total0 := machineCPU(t)

			var wg sync.WaitGroup
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+120)*time.Second)
			defer cancel()
			limit := strconv.Itoa(secs)
			for i := 0; i < n; i++ {
				wg.Go(func() {
					// -t: the client ends on its own, never killed inside a send the
					// witness would then not see return.
					out, err := c.Command(ctx, cibload, "-n", "2000000", "-t", limit).CombinedOutput()
					if err != nil {
						t.Errorf("cibload: %v\n%s", err, out)
					}
				})
			}
			wg.Go(func() {
				script := `i=0; end=$((SECONDS + $1)); while ((SECONDS < end)); do attrd_updater -n faults-load -U $((i++)) || exit 1; done`
				out, err := c.Command(ctx, "bash", "-c", script, "load", limit).CombinedOutput()
				if err != nil {
					t.Errorf("attrd_updater loop: %v\n%s", err, out)
				}
			})
			wg.Wait()
			loadEnd := time.Now()
			dBased, dSelf := procCPU(t, based)-cpuBased, selfCPU()-cpuSelf
			busy1, total1 := machineCPU(t)
			time.Sleep(2 * time.Second)
			until := time.Now()
			witnessed := stop()
			detached := time.Now()
			time.Sleep(300 * time.Millisecond)
			rec.stop(t)

			msgs, lost := readWithLoss(t, file)
			recorded, total, _ := countWindow(t, msgs, from, until, false)
			most, _, _ := countWindow(t, msgs, attaching, detached, false)
			var want sendCount
			for _, w := range witnessed {
				want.N += w.N
				want.Bytes += w.Bytes
			}
			wall := loadEnd.Sub(from).Seconds()
			t.Logf("N=%d: %d messages (%d bytes) sent in %.1f s: %.0f messages/s; recorded %d, lost %d; CPU: pacemaker-based %.0f%%, recorder (test process) %.0f%%, machine %.0f%% busy (%d CPUs, shared)",
				n, want.N, want.Bytes, wall, float64(want.N)/wall, total.N, lost, 100*dBased.Seconds()/wall, 100*dSelf.Seconds()/wall,
				100*float64(busy1-busy0)/float64(max(1, total1-total0)), runtime.NumCPU())
			if want.N < 1000 {
				t.Fatalf("the witness saw only %d sends: did the load run?", want.N)
			}
			if lost == 0 {
				checkPerProcess(t, witnessed, recorded, most)
				if !strings.Contains(rec.stderr.String(), "; 0 lost") {
					t.Errorf("no loss record, but the summary reports loss:\n%s", rec.stderr.String())
				}
				return
			}
			// With loss, messages are no longer attributable per process: the totals must add up.
			var hi sendCount
			for _, m := range most {
				hi.N += m.N
			}
			if total.N > want.N || hi.N+lost < want.N {
				t.Errorf("libqb sent %d messages; the capture holds %d to %d and counts %d lost", want.N, total.N, hi.N, lost)
			}
		})
	}
}

// checkPerProcess compares, per process, what libqb sent (witnessed) with what the capture
// holds between the witness's attach and detach (recorded at least, most at most).
func checkPerProcess(t *testing.T, witnessed, recorded, most map[uint32]sendCount) {
	t.Helper()
	pids := map[uint32]bool{}
	for p := range witnessed {
		pids[p] = true
	}
	for p := range most {
		pids[p] = true
	}
	for p := range pids {
		w, lo, hi := witnessed[p], recorded[p], most[p]
		if w.N < lo.N || w.N > hi.N || w.Bytes < lo.Bytes || w.Bytes > hi.Bytes {
			t.Errorf("pid %d (in the sandbox): libqb sent %d messages, %d bytes; the capture holds %d, %d bytes (%d, %d counting the witness's attach and detach)",
				p, w.N, w.Bytes, lo.N, lo.Bytes, hi.N, hi.Bytes)
		}
	}
}

// readWithLoss returns the capture's messages and the sum of its loss records; it fails on
// truncated messages.
func readWithLoss(t *testing.T, file string) ([]*capfile.Record, uint64) {
	t.Helper()
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
	var lost uint64
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return msgs, lost
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		switch rec.Kind {
		case capfile.KindLoss:
			lost += uint64(rec.Lost)
		case capfile.KindMessage:
			if rec.Flags&capfile.FlagTruncated != 0 || uint32(len(rec.Data)) != rec.OrigLen {
				t.Errorf("message %d truncated: %d of %d bytes", rec.Seq, len(rec.Data), rec.OrigLen)
			}
			msgs = append(msgs, rec)
		}
	}
}

// hostPID returns the host pid of the sandbox's process named name.
func hostPID(t *testing.T, c *testcluster.Cluster, name string) int {
	t.Helper()
	inner := sandboxPID(t, c, name)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		data, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "NSpid:" && f[2] == fmt.Sprint(inner) {
				if p, err := strconv.Atoi(f[1]); err == nil && pidNS(t, p) == pidNS(t, c.InitPID) {
					return p
				}
			}
		}
	}
	t.Fatalf("no host pid for %s (%d in the sandbox)", name, inner)
	return 0
}

// procCPU returns the user and system CPU time process pid used so far.
func procCPU(t *testing.T, pid int) time.Duration {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces): utime is the 14th field.
	f := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+2:]))
	ut, _ := strconv.ParseUint(f[11], 10, 64)
	st, _ := strconv.ParseUint(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// machineCPU returns the busy and total jiffies of all CPUs from /proc/stat.
func machineCPU(t *testing.T) (busy, total uint64) {
	t.Helper()
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(strings.SplitN(string(data), "\n", 2)[0])
	for i, v := range f[1:] {
		n, _ := strconv.ParseUint(v, 10, 64)
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// selfCPU returns the CPU time of this process (the recorder runs in it).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

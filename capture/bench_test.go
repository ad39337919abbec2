//go:build linux && amd64

package capture

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// runtimes holds the kernel's run time of the commit program and of all the others.
type runtimes struct {
	commit, other time.Duration
	commitRuns    uint64
}

// programRuntimes reads the run times the kernel counts while BPF statistics are enabled.
func (t *Tracer) programRuntimes() runtimes {
	var r runtimes
	for name, p := range t.coll.Programs {
		st, err := p.Stats()
		if err != nil {
			continue
		}
		d := st.Runtime
		if name == ipcProgRbCommit {
			r.commitRuns += st.RunCount
			r.commit += d
		} else {
			r.other += d
		}
	}
	return r
}

func (r runtimes) since(old runtimes) (commit, other time.Duration, commitRuns uint64) {
	return r.commit - old.commit, r.other - old.other, r.commitRuns - old.commitRuns
}

// BenchmarkExchange measures one libqb exchange (request, response, event:
// three messages of 512 bytes) between the qbpair processes: without probes
// ("none"), with the recorder's hooks running empty programs ("floor", with
// and without the socket-transport tracepoints), recording without the
// socket-transport tracepoints, without anyone reading the ring buffer, and
// recording as the CLI does. ns/exchange is per exchange; "record" also
// reports probe hits per message and the reader's CPU time per message.
//
//	go test -exec sudo -run '^$' -bench Exchange ./capture/
func BenchmarkExchange(b *testing.B) {
	if os.Geteuid() != 0 {
		b.Skip("needs root")
	}
	bin := buildQBPairB(b)
	// The kernel times each BPF program run only while asked to: our own work in the probes,
	// apart from the cost of the hooks themselves (the floor).
	if stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME)); err == nil {
		defer stats.Close()
	}
	for _, transport := range []string{"shm", "socket"} {
		b.Run(transport+"/none", func(b *testing.B) {
			benchPair(b, bin, transport, nil)
		})
		for _, noSocket := range []bool{false, true} {
			name := transport + "/floor"
			if noSocket {
				name += "-nosocket"
			}
			b.Run(name, func(b *testing.B) {
				tr, err := Open(Config{NoSocket: noSocket, EmptyPrograms: true})
				if err != nil {
					b.Fatal(err)
				}
				defer tr.Close()
				run0 := tr.programRuntimes()
				benchPair(b, bin, transport, tr)
				commit, _, runs := tr.programRuntimes().since(run0)
				if runs > 0 {
					b.ReportMetric(float64(commit.Nanoseconds())/float64(runs), "ns/commit-run")
				}
			})
		}
		b.Run(transport+"/floor-entry", func(b *testing.B) {
			// Every uprobe on its function's first instruction, single-stepped.
			tr, err := Open(Config{EmptyPrograms: true, ProbeAtEntry: true})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			benchPair(b, bin, transport, tr)
		})
		b.Run(transport+"/record-nosocket", func(b *testing.B) {
			tr, err := Open(Config{RingSize: 256 << 20, NoSocket: true})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			benchPair(b, bin, transport, tr)
		})
		b.Run(transport+"/record-noread", func(b *testing.B) {
			tr, err := Open(Config{RingSize: 256 << 20})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			benchPair(b, bin, transport, tr)
			b.ReportMetric(float64(tr.Stats().LostTotal()), "lost")
		})
		b.Run(transport+"/record", func(b *testing.B) {
			tr, err := Open(Config{})
			if err != nil {
				b.Fatal(err)
			}
			defer tr.Close()
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error)
			go func() {
				for {
					_, err := tr.Read(ctx)
					if err != nil {
						if errors.Is(err, io.EOF) {
							err = nil
						}
						done <- err
						return
					}
				}
			}()
			before := tr.Stats()
			run0 := tr.programRuntimes()
			var ru0, ru1 unix.Rusage
			unix.Getrusage(unix.RUSAGE_SELF, &ru0)
			benchPair(b, bin, transport, tr)
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			unix.Getrusage(unix.RUSAGE_SELF, &ru1)
			s := tr.Stats()
			cpu := time.Duration(ru1.Utime.Nano() + ru1.Stime.Nano() - ru0.Utime.Nano() - ru0.Stime.Nano())
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(s.Messages-before.Messages), "reader-ns/msg")
			msgs := float64(s.Messages - before.Messages)
			commit, other, runs := tr.programRuntimes().since(run0)
			b.ReportMetric(float64(commit.Nanoseconds())/float64(runs), "ns/commit-run")
			b.ReportMetric(float64(other.Nanoseconds())/msgs, "other-progs-ns/msg")
			hits := float64(s.CommitHits - before.CommitHits + s.SocketHits - before.SocketHits)
			if msgs > 0 {
				b.ReportMetric(hits/msgs, "hits/msg")
			}
			b.ReportMetric(float64(s.LostTotal()), "lost")
		})
	}
}

func benchPair(b *testing.B, bin, transport string, tr *Tracer) {
	service := fmt.Sprintf("pb%d-%s", os.Getpid(), transport)
	srv := exec.Command(bin, "server", service, transport, "1048576")
	out, err := srv.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer srv.Wait()
	defer srv.Process.Kill()
	if line, err := bufio.NewReader(out).ReadString('\n'); err != nil || line != "ready\n" {
		b.Fatalf("server: %q %v", line, err)
	}
	if transport == "socket" {
		waitSocketHooks(b, tr)
	}
	b.ResetTimer()
	res, err := exec.Command(bin, "bench", service, "1048576", strconv.Itoa(b.N), "512").Output()
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	ns, err := strconv.ParseFloat(strings.TrimSpace(string(res)), 64)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(ns, "ns/exchange")
}

func buildQBPairB(b *testing.B) string {
	dir := b.TempDir()
	bin := dir + "/qbpair"
	out, err := exec.Command("cc", "-O2", "-o", bin, "testdata/qbpair.c", "-lqb").CombinedOutput()
	if err != nil {
		b.Skipf("build qbpair: %v\n%s", err, out)
	}
	return bin
}

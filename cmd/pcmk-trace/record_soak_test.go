//go:build linux && amd64

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// soakDuration is how long TestRecordSoak runs: PCMK_TRACE_SOAK (a Go duration, e.g. 30m), or
// a minute, which CI can afford.
func soakDuration(t *testing.T) time.Duration {
	if s := os.Getenv("PCMK_TRACE_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d < 20*time.Second {
			t.Fatalf("PCMK_TRACE_SOAK=%q: want a duration of at least 20s", s)
		}
		return d
	}
	return time.Minute
}

type soakSample struct {
	at         time.Duration
	rss        int64 // kB
	goroutines int
}

// TestRecordSoak records a steady load (a libqb C client querying the CIB back to back) for a
// minute, or PCMK_TRACE_SOAK, with the recorder in this process, and checks that its resident
// memory and goroutine count stay flat after a warm-up (the first quarter): the mean of the
// last fifth within 10% of the mean of the first fifth after warm-up.
func TestRecordSoak(t *testing.T) {
	if testing.Short() {
		t.Skip("a minute of load; without -short")
	}
	c := testcluster.Require(t)
	d := soakDuration(t)
	cibload := buildCibload(t)
	// The file's size is not what is measured: /dev/null takes the capture.
	rec := startRecorder(t, "-w", "/dev/null", "--ns-of", fmt.Sprint(c.InitPID))
	ctx, cancel := context.WithTimeout(context.Background(), d+5*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var loadOut []byte
	var loadErr error
	wg.Go(func() {
		loadOut, loadErr = c.Command(ctx, cibload, "-n", "100000000", "-t", strconv.Itoa(int(d.Seconds()))).CombinedOutput()
	})
	start := time.Now()
	var samples []soakSample
	for time.Since(start) < d {
		time.Sleep(d / 60)
		samples = append(samples, soakSample{time.Since(start), rssKB(t), runtime.NumGoroutine()})
	}
	wg.Wait()
	rec.stop(t)
	if loadErr != nil {
		t.Fatalf("cibload: %v\n%s", loadErr, loadOut)
	}
	t.Logf("load: %s", strings.TrimSpace(string(loadOut)))
	t.Logf("recorder: %s", firstLine(rec.stderr.String()))

	warm := len(samples) / 4
	after := samples[warm:]
	fifth := max(1, len(after)/5)
	early, late := meanSample(after[:fifth]), meanSample(after[len(after)-fifth:])
	t.Logf("RSS %d kB at %v (start), %d kB after warm-up, %d kB at the end; goroutines %.1f after warm-up, %.1f at the end (%d samples)",
		samples[0].rss, samples[0].at.Round(time.Second), int64(early.rss), int64(late.rss), early.g, late.g, len(samples))
	if late.rss > early.rss*1.10 {
		t.Errorf("resident memory grew from %.0f kB to %.0f kB (more than 10%%) under a steady load", early.rss, late.rss)
	}
	if late.g > early.g*1.10 {
		t.Errorf("goroutines grew from %.1f to %.1f under a steady load", early.g, late.g)
	}
	if !strings.Contains(rec.stderr.String(), "; 0 lost") {
		t.Errorf("loss under a steady load of one client:\n%s", rec.stderr.String())
	}
}

type sampleMean struct{ rss, g float64 }

func meanSample(s []soakSample) sampleMean {
	var m sampleMean
	for _, x := range s {
		m.rss += float64(x.rss)
		m.g += float64(x.goroutines)
	}
	m.rss /= float64(len(s))
	m.g /= float64(len(s))
	return m
}

// rssKB returns this process's resident set size (VmRSS) in kB.
func rssKB(t *testing.T) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

//go:build linux && amd64

package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestReplayDaemonFails replays CIB queries (ten times the second of them in a recorded
// workload, at the recorded pace) against pacemaker-based while it stops answering
// (SIGSTOP) and while it dies (SIGKILL): every request then fails on its own within the
// timeout, replay does not hang, and it exits with status 2.
func TestReplayDaemonFails(t *testing.T) {
	const timeout = 2 * time.Second
	for _, sig := range []string{"STOP", "KILL"} {
		t.Run(sig, func(t *testing.T) {
			// Each signal gets a CIB that answers: the previous one may have ended the cluster,
			// or left it without a DC for minutes (2.1.5 after based stopped for 40 s), which
			// replaying queries does not need.
			c := testcluster.Require(t)
			waitCIB(t, c)
			pid := sandboxPID(t, c, "pacemaker-based")
			var stdout, stderr lockedBuffer
			done := make(chan error, 1)
			start := time.Now()
			go func() {
				done <- run(context.Background(), []string{"replay", "--op", "cib_query", "--loop", "10",
					"--timeout", timeout.String(), "--ns-of", fmt.Sprint(c.InitPID), "-f", "json",
					"../../testdata/captures/bookworm-workload.pcapng"}, &stdout, &stderr)
			}()
			// Let some requests be answered first: the capture's queries span a second.
			time.Sleep(3 * time.Second)
			c.MustExec(t, "kill", "-"+sig, fmt.Sprint(pid))
			stopped := time.Now()
			if sig == "STOP" {
				defer c.Exec(context.Background(), "kill", "-CONT", fmt.Sprint(pid))
			}
			var err error
			select {
			case err = <-done:
			case <-time.After(10 * time.Minute):
				t.Fatalf("replay still runs 10 minutes after the daemon got SIG%s", sig)
			}
			took := time.Since(stopped)
			var report struct {
				Totals  struct{ Matched, Failed int }
				Results []struct{ Outcome, Error string }
			}
			if err := json.Unmarshal([]byte(stdout.String()), &report); err != nil {
				t.Fatalf("replay report: %v\n%s", err, lastLines(stderr.String(), 5))
			}
			errs := map[string]int{}
			for _, r := range report.Results {
				if r.Outcome == "failed" {
					errs[r.Error]++
				}
			}
			t.Logf("SIG%s: replay ended %v after the signal (%v in all): %d matched, %d failed; %v; errors: %v",
				sig, took.Round(time.Millisecond), time.Since(start).Round(time.Millisecond),
				report.Totals.Matched, report.Totals.Failed, err, errs)
			var ec exitCode
			if !errors.As(err, &ec) || ec.code != 2 {
				t.Errorf("replay returned %v, want exit status 2", err)
			}
			if report.Totals.Failed == 0 || len(errs) == 0 {
				t.Error("no request reported as failed")
			}
			for e := range errs {
				if e == "" {
					t.Error("a failed request without its error")
				}
			}
			for e := range errs {
				if strings.Contains(e, "deadline exceeded") && !strings.Contains(e, "within "+timeout.String()) {
					t.Errorf("a time-out that does not say how long was waited: %s", e)
				}
			}
		})
	}
	// pacemakerd starts pacemaker-based again, or gives up (and the sandbox ends with it):
	// then the cluster is restarted for the tests after.
	c := testcluster.Require(t)
	if _, err := c.Script("pid"); err != nil || waitRespawn(t, c, "pacemaker-based", 0) == 0 || !hasDC(c) {
		if out, err := c.Down(); err != nil {
			t.Fatalf("testcluster down: %v\n%s", err, out)
		}
		if out, err := c.Up(); err != nil {
			t.Fatalf("testcluster up: %v\n%s", err, out)
		}
	}
	waitDC(t, c)
}

// hasDC reports whether the cluster regains a DC within 2 minutes; a cluster that does not
// is restarted for the tests after.
func hasDC(c *testcluster.Cluster) bool {
	_, ok := dcWithin(c, 2*time.Minute)
	return ok
}

// waitCIB waits until pacemaker-based answers a query, at most 3 minutes.
func waitCIB(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(3 * time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err = c.Exec(ctx, "cibadmin", "-Q")
		cancel()
		if err == nil {
			return
		}
	}
	t.Fatalf("the CIB does not answer 3 minutes after the last signal: %v", err)
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

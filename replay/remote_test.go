package replay_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestReplayRemoteCaptures replays the committed captures of a remote node's traffic
// (testdata/captures/<release>-remote.pcapng) on the release they were recorded on. Without
// --all-clients the controller's relays are left out and counted as such; with it they are
// sent with the proxied flag and every one is answered (by the daemon's relay event).
func TestReplayRemoteCaptures(t *testing.T) {
	testcluster.RequireRoot(t)
	buildPcmkTrace(t)
	for _, rel := range testcluster.Releases() {
		file := filepath.Join("..", "testdata", "captures", rel+"-remote.pcapng")
		if _, err := os.Stat(file); err != nil {
			continue
		}
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel})
			plain := replayRemote(t, c, file)
			if plain.Skipped.Proxied == 0 || plain.Skipped.Proxied > plain.Skipped.Daemons {
				t.Errorf("skipped %+v: the controller's relays not counted", plain.Skipped)
			}
			for _, r := range plain.Results {
				if r.Comm == "pacemaker-contr" {
					t.Errorf("without --all-clients the controller's %s %s was replayed", r.Service, r.Op)
				}
			}
			all := replayRemote(t, c, file, "--all-clients")
			relayed := 0
			for _, r := range all.Results {
				if r.Comm != "pacemaker-contr" || r.Outcome == "refused" {
					continue
				}
				relayed++
				if r.Outcome != "matched" && r.Outcome != "diverged" {
					t.Errorf("controller's %s %s: %s %s", r.Service, r.Op, r.Outcome, r.Error)
				}
			}
			if relayed < 10 {
				t.Errorf("%d of the controller's requests replayed, want the relays too", relayed)
			}
			t.Logf("plain: skipped %+v; --all-clients: %d controller requests answered", plain.Skipped, relayed)
		})
	}
}

// TestReplayOnRemoteNode records tools on remote1, talking to pacemaker-remoted, and replays
// the capture there: every request answered and matched, on every release of the matrix.
func TestReplayOnRemoteNode(t *testing.T) {
	testcluster.RequireRoot(t)
	buildPcmkTrace(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel, Remote: true})
			// The helpers record and replay in the namespaces of InitPID: the remote node's.
			remote := *c
			remote.InitPID = c.RemotePID
			file := record(t, &remote, "remote.pcapng", func() {
				for _, tool := range [][]string{{"cibadmin", "-Q"}, {"crm_mon", "-1"}, {"stonith_admin", "-L"}} {
					if _, err := c.ExecRemote(context.Background(), tool[0], tool[1:]...); err != nil {
						t.Fatal(err)
					}
				}
			})
			code, rep, stderr := replay(t, &remote, file)
			if code != 0 || rep.Totals.Sent < 6 || rep.Totals.Matched != rep.Totals.Sent {
				t.Errorf("exit %d, totals %+v\n%s", code, rep.Totals, stderr)
				for _, r := range rep.Results {
					if r.Outcome != "matched" {
						t.Logf("%s %s from %s: %s %s %+v", r.Service, r.Op, r.Comm, r.Outcome, r.Error, r.Diffs)
					}
				}
			}
		})
	}
}

type remoteReport struct {
	Skipped struct {
		Daemons, Proxied int
	}
	Results []struct {
		Service, Op, Outcome, Error, Comm string
	}
}

func replayRemote(t *testing.T, c *testcluster.Cluster, file string, args ...string) remoteReport {
	t.Helper()
	args = append([]string{"replay", "--ns-of", fmt.Sprint(c.InitPID), "--timeout", "10s", "-f", "json"}, args...)
	cmd := exec.Command(pcmkTrace(t), append(args, file)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run() // divergence exits non-zero; the report says what happened
	var rep remoteReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("replay %v: %v\nstdout: %.500s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	return rep
}

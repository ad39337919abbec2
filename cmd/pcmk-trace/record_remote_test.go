//go:build linux && amd64

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// remoteTools run on remote1 while the remote tests record.
var remoteTools = [][]string{
	{"cibadmin", "-Q"},
	{"crm_attribute", "-n", "pcmk-trace-remote", "-v", "yes", "-l", "reboot"},
	{"crm_attribute", "-n", "pcmk-trace-remote", "-G", "-l", "reboot"},
	{"crm_mon", "-1"},
	{"stonith_admin", "-L"},
}

// TestRecordRemoteNode records node1 and remote1 while tools run on remote1, with the real
// recorder, and checks the decode: the controller's relays of the remote tools' requests are
// flagged proxied and each is paired with the daemon's relay event, names remote1 and the
// tool's request it relays; the tools' own requests to pacemaker-remoted are paired; nothing
// fails to decode. Every release of the matrix.
func TestRecordRemoteNode(t *testing.T) {
	testcluster.RequireRoot(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel, Remote: true})
			file := filepath.Join(t.TempDir(), "remote.pcapng")
			recordRemote(t, c, file)
			checkRemoteCapture(t, file)
		})
	}
}

// recordRemote records both nodes' traffic into file while remoteTools run on remote1.
func recordRemote(t *testing.T, c *testcluster.Cluster, file string) {
	rec := startRecorder(t, "-w", file, "--ns-of", fmt.Sprint(c.InitPID), "--ns-of", fmt.Sprint(c.RemotePID))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, tool := range remoteTools {
		if _, err := c.ExecRemote(ctx, tool[0], tool[1:]...); err != nil {
			rec.stop(t)
			t.Fatal(err)
		}
	}
	time.Sleep(time.Second)
	rec.stop(t)
}

func checkRemoteCapture(t *testing.T, file string) {
	t.Helper()
	msgs, st := decodeFile(t, decode.Options{}, file)
	if st.Errors != 0 {
		t.Errorf("%d decode errors", st.Errors)
	}
	answered := map[uint64]*decode.Message{}
	bySeq := map[uint64]*decode.Message{}
	for _, m := range msgs {
		bySeq[m.Seq] = m
		if m.ReplyTo != nil {
			answered[m.ReplyTo.Seq] = m
		}
	}
	tools := map[string]bool{"cibadmin": true, "crm_attribute": true, "crm_mon": true, "stonith_admin": true}
	proxiedServices := map[string]int{}
	var proxied, toolRequests int
	for _, m := range msgs {
		if m.Kind != decode.KindMessage || m.Err != nil {
			continue
		}
		if m.Role == decode.RoleRequest && tools[m.Comm] && m.ExpectsReply {
			toolRequests++
			if answered[m.Seq] == nil {
				t.Errorf("seq %d: %s's %s %s to pacemaker-remoted not paired", m.Seq, m.Comm, m.Service, m.Op)
			}
		}
		if m.Flags&pcmk.FlagProxiedRelayResponse != 0 {
			if !slices.Contains(m.Flags.Names(m.Dialect), "proxied_relay_response") {
				t.Errorf("seq %d: flags %v do not name proxied_relay_response", m.Seq, m.Flags.Names(m.Dialect))
			}
			if m.ReplyTo == nil {
				t.Errorf("seq %d: relay event %s on %s answers nothing", m.Seq, m.Op, m.Service)
			}
		}
		if m.Role != decode.RoleRequest || m.Flags&pcmk.FlagProxied == 0 {
			continue
		}
		proxied++
		proxiedServices[m.Service]++
		if !slices.Contains(m.Flags.Names(m.Dialect), "proxied") {
			t.Errorf("seq %d: flags %v do not name proxied", m.Seq, m.Flags.Names(m.Dialect))
		}
		if m.ProxiedFor != "remote1" {
			t.Errorf("seq %d %s: proxied for %q, want remote1", m.Seq, m.Op, m.ProxiedFor)
		}
		if orig := bySeq[m.Relays]; orig == nil || !tools[orig.Comm] || orig.Op != m.Op || orig.Service != m.Service {
			t.Errorf("seq %d %s %s: relays %d, not a remote tool's request", m.Seq, m.Service, m.Op, m.Relays)
		}
		if m.ExpectsReply && answered[m.Seq] == nil {
			t.Errorf("seq %d: proxied %s %s (flags %v) not paired", m.Seq, m.Service, m.Op, m.Flags.Names(m.Dialect))
		}
	}
	t.Logf("%d proxied requests %v, %d remote tool requests; stats %+v", proxied, proxiedServices, toolRequests, st)
	for _, svc := range []string{"attrd", "stonith-ng"} {
		if proxiedServices[svc] == 0 {
			t.Errorf("no proxied %s request", svc)
		}
	}
	if proxiedServices["cib_rw"]+proxiedServices["cib_ro"] == 0 {
		t.Error("no proxied CIB request")
	}
	if toolRequests < proxied {
		t.Errorf("%d remote tool requests for %d proxied ones: the remote node's side is missing", toolRequests, proxied)
	}
}

package testcluster

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRemoteNode proves remote1 is a real Pacemaker Remote node on every release of the
// matrix: its tools reach the cluster through pacemaker-remoted, the cluster lists it online,
// and it lives in namespaces of its own while the host's network stays untouched.
func TestRemoteNode(t *testing.T) {
	for _, rel := range Releases() {
		t.Run(rel, func(t *testing.T) { testRemoteNode(t, RequireConfig(t, Config{Release: rel, Remote: true})) })
	}
}

func testRemoteNode(t *testing.T, c *Cluster) {
	ctx := context.Background()
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := c.ExecRemote(ctx, name, args...)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	if h := strings.TrimSpace(run("hostname")); h != "remote1" {
		t.Errorf("remote hostname %q", h)
	}
	if ps := run("ps", "-eo", "comm"); !strings.Contains(ps, "pacemaker-remot") || strings.Contains(ps, "pacemaker-base") {
		t.Errorf("the remote node's processes are not remoted alone:\n%s", ps)
	}
	if cib := run("cibadmin", "-Q"); !strings.Contains(cib, `uname="remote1"`) || !strings.Contains(cib, `remote_node="true"`) {
		t.Errorf("cibadmin -Q on remote1 lacks its node state:\n%.800s", cib)
	}
	run("crm_attribute", "-n", "pcmk-trace-remote", "-v", "yes", "-l", "reboot")
	if mon := string(c.MustExec(t, "crm_mon", "-1")); !strings.Contains(mon, "RemoteOnline: [ remote1 ]") {
		t.Errorf("crm_mon -1 on node1 lacks remote1:\n%s", mon)
	}
	for _, ns := range []string{"net", "pid", "mnt", "uts", "ipc"} {
		r, _ := os.Readlink("/proc/" + strconv.Itoa(c.RemotePID) + "/ns/" + ns)
		s, _ := os.Readlink("/proc/" + strconv.Itoa(c.InitPID) + "/ns/" + ns)
		h, _ := os.Readlink("/proc/self/ns/" + ns)
		if r == "" || r == s || r == h {
			t.Errorf("remote %s namespace %q, sandbox %q, host %q: not its own", ns, r, s, h)
		}
	}
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if strings.Contains(i.Name, "remote1") {
			t.Errorf("host interface %s: the remote node's veth leaked out of the sandbox", i.Name)
		}
	}
}

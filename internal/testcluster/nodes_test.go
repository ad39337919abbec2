//go:build linux

package testcluster

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestThreeNodes proves 'up --nodes 3' is a real cluster of three nodes on every release of
// the matrix: each node has namespaces and a hostname of its own, every node sees all three
// online with quorum and one DC, and a change made on node2 reaches node3's CIB.
func TestThreeNodes(t *testing.T) {
	for _, rel := range Releases() {
		t.Run(rel, func(t *testing.T) { testThreeNodes(t, RequireConfig(t, Config{Release: rel, Nodes: 3})) })
	}
}

func testThreeNodes(t *testing.T, c *Cluster) {
	if c.Nodes != 3 || len(c.NodePIDs) != 3 || c.InitPID != c.NodePID(1) {
		t.Fatalf("cluster %+v: want three node pids, node1's as InitPID", c)
	}
	seen := map[string]int{}
	for n := 1; n <= 3; n++ {
		if h := strings.TrimSpace(string(c.MustExecNode(t, n, "hostname"))); h != "node"+itoa(n) {
			t.Errorf("node %d: hostname %q", n, h)
		}
		for _, ns := range []string{"net", "pid", "mnt", "uts", "ipc"} {
			l, err := os.Readlink("/proc/" + itoa(c.NodePID(n)) + "/ns/" + ns)
			if err != nil {
				t.Fatal(err)
			}
			if self, _ := os.Readlink("/proc/self/ns/" + ns); l == self {
				t.Errorf("node %d shares the host's %s namespace", n, ns)
			}
			if m, ok := seen[l]; ok {
				t.Errorf("node %d shares its %s namespace with node %d", n, ns, m)
			}
			seen[l] = n
		}
		mon := string(c.MustExecNode(t, n, "crm_mon", "-1"))
		for _, want := range []string{"partition with quorum", "Online: [ node1 node2 node3 ]", "Current DC: node"} {
			if !strings.Contains(mon, want) {
				t.Errorf("crm_mon -1 on node %d lacks %q:\n%s", n, want, mon)
			}
		}
	}
	c.MustExecNode(t, 2, "crm_attribute", "-n", "pcmk-trace-nodes", "-v", "from-node2")
	waitFor(t, 20*time.Second, "node3 to see node2's attribute", func() (bool, string) {
		out, _ := c.ExecNode(context.Background(), 3, "crm_attribute", "-n", "pcmk-trace-nodes", "-G", "-q")
		return strings.TrimSpace(string(out)) == "from-node2", string(out)
	})
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range ifs {
		if i.Name == "br0" || strings.HasPrefix(i.Name, "v1") || strings.HasPrefix(i.Name, "v2") || strings.HasPrefix(i.Name, "v3") {
			t.Errorf("host interface %s: the nodes' network leaked out of its namespace", i.Name)
		}
	}
}

// TestPartitionHeal takes node3's link down: node3 loses quorum while node1 and node2 keep
// it; after heal node3 rejoins and the membership is three again.
func TestPartitionHeal(t *testing.T) {
	c := RequireConfig(t, Config{Nodes: 3})
	t.Cleanup(func() { c.Heal() })
	if err := c.Partition(3); err != nil {
		t.Fatal(err)
	}
	quorum := func(n int, want string) func() (bool, string) {
		return func() (bool, string) {
			out, _ := c.ExecNode(context.Background(), n, "crm_mon", "-1")
			return strings.Contains(string(out), want), string(out)
		}
	}
	waitFor(t, 30*time.Second, "node3 to lose quorum", quorum(3, "partition WITHOUT quorum"))
	for _, n := range []int{1, 2} {
		waitFor(t, 30*time.Second, "node"+itoa(n)+" to keep quorum without node3", func() (bool, string) {
			out, _ := c.ExecNode(context.Background(), n, "crm_mon", "-1")
			s := string(out)
			return strings.Contains(s, "partition with quorum") && strings.Contains(s, "OFFLINE: [ node3 ]"), s
		})
	}
	if err := c.Heal(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "node3 to rejoin", func() (bool, string) {
		out, _ := c.ExecNode(context.Background(), 3, "corosync-quorumtool", "-s")
		s := string(out)
		return strings.Contains(s, "Quorate:          Yes") && strings.Contains(s, "Nodes:            3"), s
	})
	for n := 1; n <= 3; n++ {
		waitFor(t, 30*time.Second, "node"+itoa(n)+" to see all three online", quorum(n, "Online: [ node1 node2 node3 ]"))
	}
}

// TestNodesDown: down stops every node and the hub, leaving no process, namespace or mount.
func TestNodesDown(t *testing.T) {
	RequireRoot(t)
	script, err := findScript()
	if err != nil {
		t.Fatal(err)
	}
	c := &Cluster{Name: "test-nodes-down", ScriptPath: script, Nodes: 2}
	t.Cleanup(func() { c.script("down") })
	if out, err := c.script(c.upArgs()...); err != nil {
		t.Fatalf("up --nodes 2: %v: %s", err, out)
	}
	if err := c.findNodes(); err != nil {
		t.Fatal(err)
	}
	var pidns, netns []string
	for _, p := range c.NodePIDs {
		l, _ := os.Readlink("/proc/" + itoa(p) + "/ns/pid")
		pidns = append(pidns, l)
		l, _ = os.Readlink("/proc/" + itoa(p) + "/ns/net")
		netns = append(netns, l)
	}
	if out, err := c.script("down"); err != nil || !strings.Contains(string(out), "down in") {
		t.Fatalf("down: %v: %s", err, out)
	}
	for i, ns := range pidns {
		if left := pidsInNamespace(ns); len(left) > 0 {
			t.Errorf("node%d: processes left: %v", i+1, left)
		}
	}
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		l, _ := os.Readlink("/proc/" + d.Name() + "/ns/net")
		for _, ns := range netns {
			if l == ns {
				t.Errorf("process %s is still in a node's network namespace", d.Name())
			}
		}
		if cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline"); strings.Contains(string(cmd), "/test-nodes-down/") {
			t.Errorf("process %s of the instance is left: %q", d.Name(), cmd)
		}
	}
	if _, err := os.Stat(stateRoot() + "/test-nodes-down"); !os.IsNotExist(err) {
		t.Errorf("state directory left behind: %v", err)
	}
	if mounts, _ := os.ReadFile("/proc/self/mountinfo"); strings.Contains(string(mounts), "sandbox-") {
		t.Errorf("sandbox mounts visible on the host:\n%s", mounts)
	}
}

func stateRoot() string {
	if s := os.Getenv("TESTCLUSTER_STATE"); s != "" {
		return s
	}
	return "/run/pcmk-trace"
}

// waitFor polls cond until it holds, failing the test with cond's last word after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		ok, last := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: gave up after %s:\n%s", what, d, last)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

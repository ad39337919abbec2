//go:build linux && amd64

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// recordNodes records each node of c into a capture of its own (record --ns-of that node's
// init, as on separate machines) while work runs, and returns the files.
func recordNodes(t *testing.T, c *testcluster.Cluster, dir string, work func()) []string {
	t.Helper()
	var files []string
	var recs []*testRecorder
	for n := 1; n <= c.Nodes; n++ {
		f := filepath.Join(dir, fmt.Sprintf("node%d.pcapng", n))
		files = append(files, f)
		recs = append(recs, startRecorder(t, "-w", f, "--ns-of", fmt.Sprint(c.NodePID(n))))
	}
	work()
	time.Sleep(time.Second) // the last deliveries and the controllers' reactions
	for _, r := range recs {
		r.stop(t)
	}
	return files
}

// attributeChanges makes CIB and attribute changes on every node in turn, so every node
// sends CPG messages and receives the others'.
func attributeChanges(t *testing.T, c *testcluster.Cluster, rounds int) {
	t.Helper()
	for i := range rounds {
		for _, n := range []int{2, 1, 3} {
			c.MustExecNode(t, n, "crm_attribute", "-n", fmt.Sprintf("pcmk-trace-merge-%d", n), "-v", fmt.Sprint(i))
			c.MustExecNode(t, n, "attrd_updater", "-n", fmt.Sprintf("pcmk-trace-merge-t%d", n), "-U", fmt.Sprint(i))
		}
	}
}

// shiftCapture writes a copy of in with every time moved by d, as editcap -t does.
func shiftCapture(t *testing.T, in, out string, d time.Duration) {
	t.Helper()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	w, err := capfile.Create(out, capfile.WriterOptions{Section: r.Section()})
	if err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		rec.Time = rec.Time.Add(d)
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

var offsetLine = regexp.MustCompile(`(?m)^merge: (node\d): clock offset (\S+)(?: ± (\S+))?`)

// mergeOffsets runs pcmk-trace merge and returns the offset it reports for each node.
func runMergeCmd(t *testing.T, args ...string) map[string]time.Duration {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), append([]string{"merge"}, args...), &stdout, &stderr); err != nil {
		t.Fatalf("merge %v: %v\n%s", args, err, stderr.String())
	}
	offs := map[string]time.Duration{}
	for _, m := range offsetLine.FindAllStringSubmatch(stderr.String(), -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			t.Fatalf("offset %q: %v\n%s", m[2], err, stderr.String())
		}
		offs[m[1]] = d
	}
	t.Logf("merge %v:\n%s", args, stderr.String())
	return offs
}

// TestMergeClockSkew records a three-node cluster node by node, moves node2's capture
// 300 ms ahead, and merges: merge must find node2's clock 300 ms off (within 5 ms) and
// the others in step, and in the merged capture no CPG delivery may come before its send.
// Every node's messages carry its name, and every copy of a multicast the same cluster_msg.
func TestMergeClockSkew(t *testing.T) {
	testcluster.RequireRoot(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel, Nodes: 3})
			dir := t.TempDir()
			files := recordNodes(t, c, dir, func() { attributeChanges(t, c, 3) })
			checkNodeSections(t, files)
			const applied = 300 * time.Millisecond
			shifted := filepath.Join(dir, "node2-shifted.pcapng")
			shiftCapture(t, files[1], shifted, applied)
			out := filepath.Join(dir, "cluster.pcapng")
			offs := runMergeCmd(t, "-w", out, files[0], shifted, files[2])
			if d := offs["node2"] + applied; d.Abs() > 5*time.Millisecond {
				t.Errorf("node2's offset %s, want %s within 5 ms", offs["node2"], -applied)
			}
			if d := offs["node3"]; d.Abs() > 5*time.Millisecond {
				t.Errorf("node3's offset %s, want 0 within 5 ms", d)
			}
			checkMerged(t, out)
			checkFollow(t, out)

			// --offset overrides the estimate.
			offs = runMergeCmd(t, "-w", out, "--offset", "node2=-300ms", files[0], shifted, files[2])
			if offs["node2"] != -applied {
				t.Errorf("--offset node2=-300ms: offset %s", offs["node2"])
			}
			checkMerged(t, out)
		})
	}
}

// checkMerged checks a merged capture of three nodes: three interfaces, each message's
// node, and CPG causality.
func checkMerged(t *testing.T, file string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dr := decode.NewReader(cr, decode.Options{})
	nodes := map[string]int{}
	sends := map[string]*decode.Message{}
	deliveries := map[string][]*decode.Message{}
	for {
		m, err := dr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		nodes[m.Node]++
		if m.ClusterMsg == "" {
			continue
		}
		if m.Channel == capfile.ChannelRequest {
			sends[m.ClusterMsg] = m
		} else {
			deliveries[m.ClusterMsg] = append(deliveries[m.ClusterMsg], m)
		}
	}
	if ifs := cr.Interfaces(); len(ifs) != 3 || ifs[1].Node != "node2" {
		t.Errorf("interfaces %+v", ifs)
	}
	if len(nodes) != 3 || nodes["node1"] == 0 || nodes["node2"] == 0 || nodes["node3"] == 0 {
		t.Errorf("messages per node %v, want node1..node3 only", nodes)
	}
	everywhere := 0
	for id, s := range sends {
		ds := deliveries[id]
		seen := map[string]bool{}
		for _, d := range ds {
			seen[d.Node] = true
			if d.Time.Before(s.Time) {
				t.Errorf("cluster_msg %s: delivered on %s at %s, before its send on %s at %s",
					id, d.Node, d.Time.Format(time.StampMicro), s.Node, s.Time.Format(time.StampMicro))
			}
		}
		if len(seen) == 3 {
			everywhere++
		}
	}
	if len(sends) < 6 || everywhere < len(sends)/2 {
		t.Errorf("%d cpg multicasts, %d delivered on all three nodes", len(sends), everywhere)
	}
}

// checkFollow follows node2's first crm_attribute change in a merged capture with decode
// --follow: it must reach based's multicast, its delivery on all three nodes, a
// notification on each other node and the tool's reply.
func checkFollow(t *testing.T, file string) {
	t.Helper()
	var root uint64
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dr := decode.NewReader(cr, decode.Options{})
	for root == 0 {
		m, err := dr.Next()
		if err != nil {
			t.Fatalf("no crm_attribute cib_modify on node2: %v", err)
		}
		if m.Node == "node2" && m.Comm == "crm_attribute" && m.Op == "cib_modify" && m.Channel == capfile.ChannelRequest {
			root = m.Seq
		}
	}
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"decode", "-f", "json", "--follow", fmt.Sprint(root), file}, &stdout, &stderr); err != nil {
		t.Fatalf("decode --follow %d: %v\n%s", root, err, stderr.String())
	}
	type line struct {
		Node       string `json:"node"`
		Service    string `json:"service"`
		Channel    string `json:"channel"`
		Op         string `json:"op"`
		ReplyTo    uint64 `json:"reply_to"`
		ClusterMsg string `json:"cluster_msg"`
		Seq        uint64 `json:"seq"`
	}
	var lines []line
	for _, l := range bytes.Split(bytes.TrimSpace(stdout.Bytes()), []byte("\n")) {
		var v line
		if err := json.Unmarshal(l, &v); err != nil {
			t.Fatalf("decode --follow: %v: %s", err, l)
		}
		lines = append(lines, v)
	}
	if len(lines) == 0 || lines[0].Seq != root {
		t.Fatalf("decode --follow %d starts with %+v", root, lines)
	}
	var send string
	delivered, notified := map[string]bool{}, map[string]bool{}
	replied := false
	for _, l := range lines {
		switch {
		case l.Service == "cpg" && l.Channel == "request" && l.Node == "node2" && send == "":
			send = l.ClusterMsg
		case l.Service == "cpg" && l.Channel == "event" && l.ClusterMsg == send:
			delivered[l.Node] = true
		case l.Op == "cib_diff_notify":
			notified[l.Node] = true
		case l.ReplyTo == root:
			replied = true
		}
	}
	if send == "" || len(delivered) != 3 || !notified["node1"] || !notified["node3"] || !replied {
		t.Errorf("decode --follow %d: multicast %q delivered on %v, notifications on %v, reply %v:\n%s",
			root, send, delivered, notified, replied, stdout.String())
	}
}

// checkNodeSections checks that each node's capture names its node: the host name of the
// node's UTS namespace, corosync's node name and id, and the kernel's boot id.
func checkNodeSections(t *testing.T, files []string) {
	t.Helper()
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		t.Fatal(err)
	}
	for i, file := range files {
		f, err := os.Open(file)
		if err != nil {
			t.Fatal(err)
		}
		r, err := capfile.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		s := r.Section()
		f.Close()
		want := fmt.Sprintf("node%d", i+1)
		if s.Host != want || s.Node != want || s.NodeID != uint32(i+1) || s.BootID != string(bytes.TrimSpace(boot)) {
			t.Errorf("%s: host %q node %q id %d boot %q, want %s, id %d, boot %s", file, s.Host, s.Node, s.NodeID, s.BootID, want, i+1, boot)
		}
	}
}

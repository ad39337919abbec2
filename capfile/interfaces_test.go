package capfile

import (
	"bytes"
	"testing"
	"time"
)

// TestNodeSection: the section header's node lines survive a round trip, and every record
// read carries the section's node.
func TestNodeSection(t *testing.T) {
	var buf bytes.Buffer
	sec := SectionInfo{Host: "node2", Node: "node2", NodeID: 2, BootID: "0f3c8a1e-52b3-4a47-9d1c-1f0e6e7a2b55"}
	w, err := NewWriter(&buf, WriterOptions{Section: sec})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Record{Kind: KindMessage, Seq: 1, Node: "ignored", Data: []byte("x"), OrigLen: 1}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Section()
	if got.Host != sec.Host || got.Node != sec.Node || got.NodeID != sec.NodeID || got.BootID != sec.BootID || got.Comment != "" {
		t.Errorf("section %+v, want %+v", got, sec)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if rec.Node != "node2" {
		t.Errorf("record node %q, want the section's node2", rec.Node)
	}
	if r.Interfaces() != nil {
		t.Errorf("a one-node capture lists interfaces %v", r.Interfaces())
	}
}

// TestMergedInterfaces: a merged capture puts each record on its node's interface, and a
// reader gives the nodes (with their clock offsets) and each record's node back.
func TestMergedInterfaces(t *testing.T) {
	nodes := []InterfaceInfo{
		{Node: "node1", Host: "node1", NodeID: 1, BootID: "b1"},
		{Node: "node2", Host: "node2", NodeID: 2, BootID: "b1", Offset: -300 * time.Millisecond, OffsetError: 250 * time.Microsecond},
		{Node: "node3", NodeID: 3},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{Interfaces: nodes})
	if err != nil {
		t.Fatal(err)
	}
	order := []string{"node2", "node1", "node3", "node2"}
	for i, n := range order {
		if err := w.Write(&Record{Kind: KindMessage, Seq: uint64(i + 1), Node: n, Data: []byte{byte(i)}, OrigLen: 1}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	w2, _ := NewWriter(new(bytes.Buffer), WriterOptions{Interfaces: nodes})
	if err := w2.Write(&Record{Kind: KindMessage, Seq: 9, Node: "node4"}); err == nil {
		t.Error("a record of a node without an interface was written")
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range order {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Node != n || rec.Seq != uint64(i+1) {
			t.Errorf("record %d: node %q seq %d, want %q", i, rec.Node, rec.Seq, n)
		}
	}
	got := r.Interfaces()
	if len(got) != len(nodes) {
		t.Fatalf("interfaces %+v", got)
	}
	for i := range nodes {
		if got[i] != nodes[i] {
			t.Errorf("interface %d: %+v, want %+v", i, got[i], nodes[i])
		}
	}
	if _, err := NewWriter(&buf, WriterOptions{Interfaces: []InterfaceInfo{{Node: "a"}, {Node: "a"}}}); err == nil {
		t.Error("two interfaces of one node accepted")
	}
}

package analyse

import (
	"testing"
	"time"
)

// twoNodes is one cibadmin conversation on node1 and another on node2, with the same pids.
func twoNodes(second string) *conv {
	var c conv
	for i, node := range []string{"node1", second} {
		req := c.request(time.Duration(i)*time.Millisecond, "cib_query", true, 100)
		rep := c.reply(time.Duration(i)*time.Millisecond+time.Duration(i+1)*100*time.Microsecond, req, "0", 200)
		req.Node, rep.Node = node, node
	}
	return &c
}

// TestNodeColumn: a capture of several nodes has a node column in the ops and clients
// tables, a row per node, and LatencyBuckets over all of them; a capture of one node has
// no node column.
func TestNodeColumn(t *testing.T) {
	a := twoNodes("node2").aggregate(Config{})
	tables, err := a.Tables("ops", "clients")
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		if tb.Columns[0].Key != "node" || len(tb.Rows) != 2 || tb.Rows[0][0] != "node1" || tb.Rows[1][0] != "node2" {
			t.Errorf("table %s: columns %v rows %v: want a node column and a row per node", tb.Name, tb.Columns, tb.Rows)
		}
	}
	var n uint64
	for _, b := range a.LatencyBuckets("cib_rw", "cib_query") {
		n += b.Count
	}
	if n != 2 {
		t.Errorf("latency buckets over both nodes count %d", n)
	}

	a = twoNodes("node1").aggregate(Config{})
	tables, _ = a.Tables("ops", "clients")
	for _, tb := range tables {
		if tb.Columns[0].Key == "node" || len(tb.Rows) != 1 {
			t.Errorf("one node's table %s: columns %v rows %v", tb.Name, tb.Columns, tb.Rows)
		}
	}
}

// TestFlowNodes: lifelines of several nodes are node/comm[pid], one per node even where
// the pids are the same; one node's lifelines keep comm[pid].
func TestFlowNodes(t *testing.T) {
	for _, tc := range []struct {
		second string
		want   []string
	}{
		{"node2", []string{"node1/pacemaker-based[100]", "node1/cibadmin[200]", "node2/pacemaker-based[100]", "node2/cibadmin[200]"}},
		{"node1", []string{"pacemaker-based[100]", "cibadmin[200]"}},
	} {
		b := NewFlowBuilder(FlowOptions{})
		for _, m := range twoNodes(tc.second).msgs {
			b.Add(m)
		}
		f := b.Flow()
		var got []string
		for _, l := range f.Lifelines {
			got = append(got, l.Name())
		}
		if len(got) != len(tc.want) {
			t.Fatalf("lifelines %v, want %v", got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("lifelines %v, want %v", got, tc.want)
				break
			}
		}
		if a := f.Arrows[len(f.Arrows)-1]; f.Lifelines[a.From].Node != f.Lifelines[a.To].Node {
			t.Errorf("an arrow crosses nodes: %+v", a)
		}
	}
}

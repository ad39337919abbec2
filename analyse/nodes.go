package analyse

import (
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// maxNodes bounds the node list: a cluster has at most a few dozen.
const maxNodes = 256

func (a *Aggregator) addNode(node string) {
	if len(a.nodes) > 0 && a.nodes[len(a.nodes)-1] == node || len(a.nodes) >= maxNodes {
		return
	}
	if !slices.Contains(a.nodes, node) {
		a.nodes = append(a.nodes, node)
	}
}

// Nodes returns the nodes the messages came from, in order of appearance: one name (or
// "" for a capture that names none) for one node's capture, several for a merged one.
func (a *Aggregator) Nodes() []string { return slices.Clone(a.nodes) }

// multiNode reports whether the capture has several nodes: then the ops and clients
// tables have a node column; a capture of one node keeps its tables as they were.
func (a *Aggregator) multiNode() bool { return len(a.nodes) > 1 }

// withNode puts a node column first in t when the capture has several nodes.
func (a *Aggregator) withNode(t *Table, node func(i int) string) *Table {
	if !a.multiNode() {
		return t
	}
	t.Columns = append([]Column{{Key: "node", Head: "NODE"}}, t.Columns...)
	for i, r := range t.Rows {
		t.Rows[i] = append([]any{node(i)}, r...)
	}
	return t
}

// latencyHist returns the latency histogram of service's operation op, over every node of
// the capture; nil when it has no latency.
func (a *Aggregator) latencyHist(service, op string) *hdrhistogram.Histogram {
	if !a.multiNode() {
		node := ""
		if len(a.nodes) == 1 {
			node = a.nodes[0]
		}
		if st := a.ops[opKey{node, service, op}]; st != nil {
			return st.hist
		}
		return nil
	}
	var h *hdrhistogram.Histogram
	for k, st := range a.ops {
		if k.service != service || k.op != op || st.hist == nil {
			continue
		}
		if h == nil {
			h = hdrhistogram.New(1, latencyMax, latencyDigits)
		}
		h.Merge(st.hist)
	}
	return h
}

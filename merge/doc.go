// Package merge joins the captures of a cluster's nodes into one capture, in time order,
// with each node's records on an interface of its own.
//
// Real nodes' clocks disagree. CPG, corosync's group messaging that Pacemaker's daemons
// use between nodes, gives exact anchors: a multicast sent on one node is delivered on
// every node, and no delivery can precede its send. [ScanAnchors] collects the sends and
// deliveries of each capture, [EstimateOffsets] turns them into a clock offset per node
// with its uncertainty, and [Merge] writes the records in corrected time order, reading
// every capture once, a record at a time (a k-way merge over a heap).
//
//	anchors := [][]merge.Anchor{...} // merge.ScanAnchors of each capture
//	offs := merge.EstimateOffsets(anchors)
//	err := merge.Merge(w, inputs) // inputs[i].Offset = offs[i].Offset
package merge

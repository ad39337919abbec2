package merge

import (
	"math"
	"time"
)

// Offset is the clock correction of one node: adding Offset to its times puts them on the
// first node's clock.
type Offset struct {
	Offset time.Duration
	// Error is the estimate's uncertainty: the true offset lies within Offset ± Error.
	// -1 means the bounds were one-sided (the node only sent, or only received, what the
	// reference saw): Offset is then the smallest correction that keeps every delivery
	// after its send.
	Error time.Duration
	Known bool // there was anything to estimate from; else Offset is 0
	Sent  int  // multicasts the estimate used that the node sent
	Recv  int  // and that it received from the others
}

const (
	noBound = math.MinInt64
)

// EstimateOffsets estimates each node's clock offset from the CPG anchors of its capture
// (nodes[i] is node i's), relative to node 0, whose offset is 0.
//
// A multicast sent on node i at s (i's clock) and delivered on node j at d (j's clock)
// bounds the offsets: d + o_j >= s + o_i, so o_j - o_i >= s - d. The largest such bound
// from i to j and the one from j to i enclose o_j - o_i; the estimate is their midpoint
// and the uncertainty half their distance, as NTP does with its four timestamps. Nodes
// without bounds of their own to node 0 are reached through other nodes.
func EstimateOffsets(nodes [][]Anchor) []Offset {
	n := len(nodes)
	out := make([]Offset, n)
	if n == 0 {
		return out
	}
	// The first send of each multicast, and on which node.
	type send struct {
		node int
		at   time.Time
	}
	sends := map[uint64]send{}
	for i, as := range nodes {
		for _, a := range as {
			if a.Send {
				if s, ok := sends[a.Sum]; !ok || a.Time.Before(s.at) {
					sends[a.Sum] = send{i, a.Time}
				}
			}
		}
	}
	// lower[i][j]: the largest s - d over multicasts sent on i, delivered on j.
	lower := make([][]int64, n)
	count := make([][]int, n)
	for i := range lower {
		lower[i] = make([]int64, n)
		count[i] = make([]int, n)
		for j := range lower[i] {
			lower[i][j] = noBound
		}
	}
	for j, as := range nodes {
		for _, a := range as {
			if a.Send {
				continue
			}
			s, ok := sends[a.Sum]
			if !ok || s.node == j {
				continue
			}
			b := s.at.Sub(a.Time).Nanoseconds()
			if b > lower[s.node][j] {
				lower[s.node][j] = b
			}
			count[s.node][j]++
		}
	}
	// Breadth first from node 0: two-sided edges first, then one-sided ones.
	done := make([]bool, n)
	done[0] = true
	out[0] = Offset{Known: true}
	for _, twoSided := range []bool{true, false} {
		for changed := true; changed; {
			changed = false
			for i := range n {
				if !done[i] {
					continue
				}
				for j := range n {
					if done[j] {
						continue
					}
					lo, hi := lower[i][j], lower[j][i] // o_j - o_i in [lo, -hi]
					var d, e int64
					switch {
					case lo != noBound && hi != noBound:
						up := -hi
						d, e = lo+(up-lo)/2, (up-lo)/2
						if e < 0 {
							e = -e // clocks that drifted during the capture: the bounds cross
						}
					case twoSided:
						continue
					case lo != noBound:
						d, e = max(lo, 0), -1
					case hi != noBound:
						d, e = min(-hi, 0), -1
					default:
						continue
					}
					base := out[i]
					out[j] = Offset{Offset: base.Offset + time.Duration(d), Error: errSum(base.Error, time.Duration(e)),
						Known: true, Sent: count[j][i], Recv: count[i][j]}
					done[j], changed = true, true
				}
			}
		}
	}
	return out
}

// errSum adds two uncertainties, either of which may be one-sided (-1).
func errSum(a, b time.Duration) time.Duration {
	if a < 0 || b < 0 {
		return -1
	}
	return a + b
}

package export

import (
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// The grouping of messages into traces (doc.go, rules 1 to 3).

// cause is the span a process's next messages are blamed on (rule 2), or
// the first copy of a cluster-wide message (rule 1).
type cause struct {
	sc    trace.SpanContext
	at    time.Time
	depth int
}

type conv struct {
	trace trace.TraceID
	last  time.Time
}

func (c *Converter) nodeOf(m *decode.Message) string {
	if c.cfg.NodeOf != nil {
		if n := c.cfg.NodeOf(m); n != "" {
			return n
		}
	}
	return nodeOf(m, c.cfg.Node)
}

func (c *Converter) clusterMsgOf(m *decode.Message) string {
	if c.cfg.ClusterMsgOf != nil {
		if k := c.cfg.ClusterMsgOf(m); k != "" {
			return k
		}
	}
	return clusterMsgOf(m)
}

// parent finds the cause of a message sent by process from (rules 1 and 2).
func (c *Converter) parent(m *decode.Message, from procKey) (cause, bool) {
	if k := c.clusterMsgOf(m); k != "" {
		if p, ok := c.cluster[k]; ok {
			return cause{p.sc, m.Time, p.depth + 1}, true
		}
	}
	if p, ok := c.causes[from]; ok && m.Time.Sub(p.at) <= c.cfg.Window && p.depth < c.cfg.MaxDepth {
		return cause{p.sc, m.Time, p.depth + 1}, true
	}
	return cause{}, false
}

// maxEntries bounds the conversation and cluster maps; older entries go.
const maxEntries = 1 << 16

func (c *Converter) sweepConvs(now time.Time) {
	for k, v := range c.convs {
		if now.Sub(v.last) > c.cfg.ConversationGap {
			delete(c.convs, k)
		}
	}
}

func (c *Converter) addCluster(key string, p cause) {
	if len(c.cluster) >= maxEntries {
		for k, v := range c.cluster {
			if p.at.Sub(v.at) > c.cfg.PendingTimeout {
				delete(c.cluster, k)
			}
		}
	}
	c.cluster[key] = p
}

package decode

import (
	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// clusterMsg sets m.ClusterMsg for a CPG multicast, sent or delivered, in a capture that
// names its node (one recorded by a recorder that writes the node, or a merged one):
// captures that do not decode as they always did.
func clusterMsg(m *Message, rec *capfile.Record, data []byte) {
	if rec.Node == "" || rec.Service != "cpg" {
		return
	}
	if c, ok := pcmk.ParseCPG(data, rec.Channel == capfile.ChannelRequest); ok {
		m.ClusterMsg = c.ID()
	}
}

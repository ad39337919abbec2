package decode

import (
	"encoding/binary"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// cpgSend is a cpg mcast request carrying payload, and cpgDeliver its delivery from node
// nodeid's process pid to group, as corosync's CPG lays them out (docs/cluster.md).
func cpgSend(payload []byte) []byte {
	b := make([]byte, 40, 40+len(payload))
	le := binary.LittleEndian
	le.PutUint32(b[0:], 2)
	le.PutUint32(b[8:], uint32(40+len(payload)))
	le.PutUint32(b[32:], uint32(len(payload)))
	return append(b, payload...)
}

func cpgDeliver(group string, nodeid, pid uint32, payload []byte) []byte {
	b := make([]byte, 184, 184+len(payload))
	le := binary.LittleEndian
	le.PutUint32(b[0:], 5)
	le.PutUint32(b[8:], uint32(184+len(payload)))
	le.PutUint32(b[24:], uint32(len(group)+1))
	copy(b[32:], group)
	le.PutUint32(b[160:], uint32(len(payload)))
	le.PutUint32(b[168:], nodeid)
	le.PutUint32(b[176:], pid)
	return append(b, payload...)
}

// cpgRecords are one multicast's send on node2 and its deliveries on node1 and node2.
func cpgRecords(seq uint64, payload string) []*capfile.Record {
	send := msgRec("cpg", capfile.ChannelRequest, cpgSend([]byte(payload)))
	send.Node, send.Comm = "node2", "pacemaker-based"
	var recs []*capfile.Record
	recs = append(recs, send)
	for _, n := range []string{"node1", "node2"} {
		d := msgRec("cpg", capfile.ChannelEvent, cpgDeliver("cib", 2, 54, []byte(payload)))
		d.Node, d.Comm = n, "corosync"
		recs = append(recs, d)
	}
	for i, r := range recs {
		r.Seq, r.Packet = seq+uint64(i), int(seq)+i
	}
	return recs
}

// TestClusterMsg: a multicast's send and its deliveries on every node share one cluster_msg,
// another multicast gets another, and a capture that names no node gets none.
func TestClusterMsg(t *testing.T) {
	recs := append(cpgRecords(1, "one\x00"), cpgRecords(10, "two\x00")...)
	msgs, _ := decodeAll(t, recs, Options{})
	if len(msgs) != 6 {
		t.Fatalf("%d messages", len(msgs))
	}
	for i, m := range msgs {
		if m.ClusterMsg == "" || len(m.ClusterMsg) != 16 {
			t.Errorf("message %d: cluster_msg %q", i, m.ClusterMsg)
		}
		if m.Node != recs[i].Node {
			t.Errorf("message %d: node %q, want %q", i, m.Node, recs[i].Node)
		}
		if m.ClusterMsg != msgs[i/3*3].ClusterMsg {
			t.Errorf("message %d: cluster_msg %q, its send's %q", i, m.ClusterMsg, msgs[i/3*3].ClusterMsg)
		}
	}
	if msgs[0].ClusterMsg == msgs[3].ClusterMsg {
		t.Error("two different multicasts share a cluster_msg")
	}
	plain := cpgRecords(1, "one\x00")
	for _, r := range plain {
		r.Node = ""
	}
	msgs, _ = decodeAll(t, plain, Options{})
	for i, m := range msgs {
		if m.ClusterMsg != "" || m.Node != "" {
			t.Errorf("message %d of a capture without nodes: node %q cluster_msg %q", i, m.Node, m.ClusterMsg)
		}
	}
}

package analyse

import (
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// TestFollower follows a CIB change made on node2: the tool's request and reply, based's
// multicast and its deliveries on node1 and node2, node1's notification to its controller
// and the controller's query; not an unrelated multicast corosync delivers meanwhile, not
// another client's conversation, and nothing after the window.
func TestFollower(t *testing.T) {
	ms := time.Millisecond
	var seq uint64
	msg := func(at time.Duration, node, service string, ch capfile.Channel, client, server uint32, mod func(*decode.Message)) *decode.Message {
		seq++
		m := &decode.Message{Kind: decode.KindMessage, Seq: seq, Time: t0.Add(at), Node: node, Service: service,
			Channel: ch, ClientPID: client, ServerPID: server, Role: decode.RoleEvent}
		if ch == capfile.ChannelRequest {
			m.Role = decode.RoleRequest
		}
		if mod != nil {
			mod(m)
		}
		return m
	}
	cm := func(id string) func(*decode.Message) { return func(m *decode.Message) { m.ClusterMsg = id } }
	before := msg(0, "node2", "cib_rw", capfile.ChannelRequest, 80, 56, nil)
	root := msg(1*ms, "node2", "cib_rw", capfile.ChannelRequest, 79, 56, nil)
	want := []*decode.Message{
		root,
		msg(2*ms, "node2", "cpg", capfile.ChannelRequest, 56, 32, cm("aa")),
		msg(3*ms, "node1", "cpg", capfile.ChannelEvent, 55, 32, cm("aa")),
		msg(3*ms, "node2", "cpg", capfile.ChannelEvent, 56, 32, cm("aa")),
		msg(4*ms, "node1", "cib_rw", capfile.ChannelEvent, 60, 55, nil),    // based notifies node1's controller
		msg(5*ms, "node1", "cib_shm", capfile.ChannelRequest, 60, 55, nil), // which asks
		msg(6*ms, "node2", "cib_rw", capfile.ChannelResponse, 79, 56, func(m *decode.Message) {
			m.Role, m.ReplyTo = decode.RoleReply, &decode.Pair{Seq: root.Seq}
		}),
	}
	others := []*decode.Message{
		before,
		msg(3*ms, "node3", "cpg", capfile.ChannelEvent, 54, 32, cm("bb")),         // another multicast
		msg(4*ms, "node3", "cib_rw", capfile.ChannelRequest, 90, 54, nil),         // another client on another node
		msg(4*ms, "node1", "stonith-ng", capfile.ChannelRequest, 60, 56, nil),     // pid 60 on node3 (set below): not node1's controller
		msg(500*ms, "node2", "cib_rw", capfile.ChannelEvent, 81, 56, nil),         // based, past the window
		msg(900*ms, "node1", "cib_rw", capfile.ChannelRequest, 61, 55, nil),       // not a reaction
		msg(2000*ms, "node1", "crmd", capfile.ChannelRequest, 60, 59, nil),        // the controller, too late
		msg(3000*ms, "node1", "cpg", capfile.ChannelEvent, 55, 32, cm("aa-late")), // after the last activation
	}
	others[3].Node = "node3" // the same pid as node1's controller, on another node
	stream := append([]*decode.Message{}, others[0], want[0], want[1], want[2], want[3], others[1], want[4], others[2], others[3], want[5], want[6])
	stream = append(stream, others[4:]...)
	f := &Follower{Seq: root.Seq, Window: 100 * ms}
	var got []uint64
	stopped := false
	for _, m := range stream {
		keep, more := f.Add(m)
		if keep {
			got = append(got, m.Seq)
		}
		if !more {
			stopped = true
			break
		}
	}
	if !f.Found() || len(got) != len(want) {
		t.Fatalf("followed %v, want %d messages", got, len(want))
	}
	for i, m := range want {
		if got[i] != m.Seq {
			t.Errorf("followed %v, want seq %d at %d", got, m.Seq, i)
		}
	}
	if !stopped {
		t.Error("the follower never said the change was over")
	}
}

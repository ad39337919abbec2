package pcmk

import (
	"encoding/binary"
	"hash/fnv"
	"strconv"
)

// Message ids of corosync's CPG service (libqb service "cpg") that tie the nodes' captures
// together: a daemon multicasts with a request of id CPGReqMcast, and every member of the
// group, on every node, receives it as an event of id CPGResDeliver (docs/cluster.md).
const (
	CPGReqJoin     = 0
	CPGReqMcast    = 2
	CPGResConfchg  = 4
	CPGResDeliver  = 5
	cpgNameMax     = 128 // CPG_MAX_NAME_LENGTH
	cpgMcastLen    = 40  // response-style header 24, guarantee 8, msglen 8
	cpgDeliverLen  = 184 // header 24, group name 8+128, msglen 8, nodeid 8, pid 8
	cpgGroupOffset = 24
	cpgIDBytes     = 4096 // payload bytes hashed into an id: enough to tell messages apart, and cut captures agree on them
)

// CPGMessage is a CPG multicast as sent (a request) or as delivered (an event).
type CPGMessage struct {
	Deliver bool   // a delivery; else a send
	Group   string // the CPG group (deliveries only: a send's group is its connection's)
	NodeID  uint32 // deliveries: the sender's node id
	PID     uint32 // deliveries: the sender's pid, in its pid namespace
	MsgLen  uint32 // length of the payload as sent
	Payload []byte // the payload, perhaps cut short by the capture
}

// ParseCPG reads a CPG multicast send (request is true: a request of id CPGReqMcast) or
// delivery (an event of id CPGResDeliver) from a libqb message of the cpg service. It
// returns false for other messages and ones too short for their header.
func ParseCPG(data []byte, request bool) (CPGMessage, bool) {
	if len(data) < ResponseHeaderLen {
		return CPGMessage{}, false
	}
	le := binary.LittleEndian
	id := int32(le.Uint32(data))
	switch {
	case request && id == CPGReqMcast && len(data) >= cpgMcastLen:
		m := CPGMessage{MsgLen: le.Uint32(data[32:])}
		m.Payload = clip(data[cpgMcastLen:], m.MsgLen)
		return m, true
	case !request && id == CPGResDeliver && len(data) >= cpgDeliverLen:
		m := CPGMessage{
			Deliver: true,
			MsgLen:  le.Uint32(data[160:]),
			NodeID:  le.Uint32(data[168:]),
			PID:     le.Uint32(data[176:]),
		}
		n := min(le.Uint32(data[cpgGroupOffset:]), cpgNameMax)
		g := data[cpgGroupOffset+8 : cpgGroupOffset+8+int(n)]
		for len(g) > 0 && g[len(g)-1] == 0 {
			g = g[:len(g)-1]
		}
		m.Group = string(g)
		m.Payload = clip(data[cpgDeliverLen:], m.MsgLen)
		return m, true
	}
	return CPGMessage{}, false
}

func clip(b []byte, n uint32) []byte {
	if uint64(len(b)) > uint64(n) {
		return b[:n]
	}
	return b
}

// ID returns a name for the multicast, the same on its send and on every delivery: a hash
// of its length and first bytes, 16 hex digits. Pacemaker puts a per-sender counter at the
// start of each message, so different messages get different ids.
func (m *CPGMessage) ID() string {
	var b [16]byte
	s := strconv.AppendUint(b[:0], m.Sum(), 16)
	for len(s) < 16 {
		s = append([]byte{'0'}, s...)
	}
	return string(s)
}

// Sum is ID as a number: a 64-bit FNV-1a hash of the payload's length and first bytes.
func (m *CPGMessage) Sum() uint64 {
	h := fnv.New64a()
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], m.MsgLen)
	h.Write(n[:])
	h.Write(m.Payload[:min(len(m.Payload), cpgIDBytes)])
	return h.Sum64()
}

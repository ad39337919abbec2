package capture

import (
	"structs"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// partialTimeout is how long a message whose pieces stopped coming is kept.
// All pieces of a message are emitted by one program run, so a gap this long
// means the kernel gave up on it (and counted why).
const partialTimeout = 5 * time.Second

// maxSpare and maxSpareData bound the memory Recycle keeps.
const (
	maxSpare     = 64
	maxSpareData = 64 << 10
)

// pieceHdr is the header the BPF programs put before each piece of a
// message (struct ipc_hdr in bpf/ipc.c), in the host's byte order. It
// mirrors the generated ipcIpcHdr so that reassembly builds, and is tested,
// on any system; the Linux build converts one into the other, which the
// compiler allows only while the two are identical.
type pieceHdr struct {
	_          structs.HostLayout
	Ktime      uint64
	Seq        uint64
	OrigLen    uint32
	CapLen     uint32
	Offset     uint32
	Len        uint32
	Pid        uint32
	Tid        uint32
	Nspid      uint32
	Uid        uint32
	Pidns      uint32
	Mntns      uint32
	ClientPid  uint32
	ServerPid  uint32
	MaxMsgSize uint32
	Kind       uint8
	Hook       uint8
	Channel    uint8
	Transport  uint8
	Flags      uint32
	Pad        uint32
	Comm       [16]int8
	Service    [32]int8
	Conn       [48]int8
}

// pieceHdrSize is the size of a piece's header, ahead of its data.
const pieceHdrSize = int(unsafe.Sizeof(pieceHdr{}))

// assembler turns the pieces the programs emit (a message larger than a
// piece comes in several, all from one program run) back into records,
// numbers the records, and turns loss counts into loss records. It is the
// part of the reader that needs no kernel.
type assembler struct {
	wallOff  int64 // CLOCK_REALTIME - CLOCK_MONOTONIC, ns
	ids      identities
	partial  map[uint64]*partialMsg
	spare    []*capfile.Record // handed back by recycle, reused by newRecord
	seq      uint64
	reported map[capfile.LossCause]uint64 // losses already turned into records

	messages   atomic.Uint64
	bytes      atomic.Uint64
	reassembly atomic.Uint64 // pieces that did not fit a message (LossReassembly)

	// The reader's wait for records (ringwait_linux.go), at most latency.
	waiter  readWaiter
	latency time.Duration
}

// readWaiter parks the reader until the ring buffer signals records or a
// deadline passes.
type readWaiter interface {
	wait(deadline time.Time)
	stop()  // ends a wait in progress
	close() // frees the waiter
}

type partialMsg struct {
	rec  *capfile.Record
	got  uint32
	seen time.Time
}

// piece adds one ring buffer record; it returns a record once complete.
// raw must be aligned for a pieceHdr, as ring buffer records are.
func (a *assembler) piece(raw []byte) *capfile.Record {
	if len(raw) < pieceHdrSize {
		a.reassembly.Add(1)
		return nil
	}
	h := (*pieceHdr)(unsafe.Pointer(&raw[0]))
	data := raw[pieceHdrSize:]
	if int(h.Len) > len(data) || h.Offset > h.CapLen || h.Len > h.CapLen-h.Offset {
		a.reassembly.Add(1)
		return nil
	}
	data = data[:h.Len]

	if h.Offset == 0 && h.Len == h.CapLen {
		rec := a.newRecord(h)
		copy(rec.Data, data)
		return a.complete(rec)
	}
	if a.partial == nil {
		a.partial = map[uint64]*partialMsg{}
	}
	p := a.partial[h.Seq]
	if p == nil {
		if h.Offset != 0 {
			// The start was never seen: the reader began mid-message, or
			// the kernel gave up on it. Either way it is already counted.
			return nil
		}
		p = &partialMsg{rec: a.newRecord(h)}
		a.partial[h.Seq] = p
	}
	copy(p.rec.Data[h.Offset:], data)
	p.got += h.Len
	p.seen = time.Now()
	if p.got < h.CapLen {
		return nil
	}
	delete(a.partial, h.Seq)
	return a.complete(p.rec)
}

func (a *assembler) newRecord(h *pieceHdr) *capfile.Record {
	var rec *capfile.Record
	var data []byte
	if n := len(a.spare); n > 0 && cap(a.spare[n-1].Data) >= int(h.CapLen) {
		rec = a.spare[n-1]
		data = rec.Data[:h.CapLen]
		a.spare[n-1] = nil
		a.spare = a.spare[:n-1]
	} else {
		rec = new(capfile.Record)
		if h.CapLen > 0 {
			data = make([]byte, h.CapLen)
		}
	}
	*rec = capfile.Record{
		Kind:       capfile.Kind(h.Kind),
		Time:       time.Unix(0, int64(h.Ktime)+a.wallOff),
		Channel:    capfile.Channel(h.Channel),
		Transport:  capfile.Transport(h.Transport),
		Hook:       capfile.Hook(h.Hook),
		Flags:      capfile.Flags(h.Flags),
		OrigLen:    h.OrigLen,
		PID:        h.Pid,
		TID:        h.Tid,
		NSPID:      h.Nspid,
		UID:        h.Uid,
		PIDNS:      h.Pidns,
		MntNS:      h.Mntns,
		MaxMsgSize: h.MaxMsgSize,
	}
	id := a.ids.get(h)
	rec.Comm, rec.Service, rec.Conn = id.comm, id.service, id.conn
	rec.ServerPID, rec.ClientPID = id.serverPID, id.clientPID
	rec.Data = data
	return rec
}

func (a *assembler) complete(rec *capfile.Record) *capfile.Record {
	a.seq++
	rec.Seq = a.seq
	if rec.Kind == capfile.KindMessage {
		a.messages.Add(1)
		a.bytes.Add(uint64(len(rec.Data)))
	}
	return rec
}

// recycle keeps rec's memory for a later message, within the bounds of maxSpare.
func (a *assembler) recycle(rec *capfile.Record) {
	if rec == nil || cap(rec.Data) == 0 || cap(rec.Data) > maxSpareData || len(a.spare) >= maxSpare {
		return
	}
	a.spare = append(a.spare, rec)
}

// expire drops the messages whose pieces stopped coming before now less
// partialTimeout; final drops every partial message.
func (a *assembler) expire(now time.Time, final bool) {
	for seq, p := range a.partial {
		if final || now.Sub(p.seen) > partialTimeout {
			delete(a.partial, seq)
		}
	}
}

package capfile

import "time"

// Kind says what a Record describes.
type Kind uint8

const (
	KindMessage    Kind = 1 // one libqb message, as its writer (or reader, with FlagRX) saw it
	KindConnect    Kind = 2 // a connection was set up (MaxMsgSize holds the negotiated size)
	KindDisconnect Kind = 3 // a connection was torn down
	KindLoss       Kind = 4 // Lost messages could not be recorded, for reason Cause
)

// Channel is the libqb one-way channel a message travelled on.
type Channel uint8

const (
	ChannelNone     Channel = 0
	ChannelRequest  Channel = 1 // client -> server
	ChannelResponse Channel = 2 // server -> client, answers a request
	ChannelEvent    Channel = 3 // server -> client, asynchronous
)

// Transport is the libqb IPC transport of a connection.
type Transport uint8

const (
	TransportUnknown Transport = 0
	TransportSHM     Transport = 1 // shared-memory ring buffers
	TransportSocket  Transport = 2 // Unix datagram sockets
)

// Hook names the probe that produced a record.
type Hook uint8

const (
	HookNone       Hook = 0
	HookRBCommit   Hook = 1 // qb_rb_chunk_commit entry (SHM, sender side)
	HookSockSend   Hook = 2 // sendto/sendmsg/writev syscall on a libqb datagram socket
	HookRBPeek     Hook = 3 // qb_rb_chunk_peek return (SHM, server receive)
	HookRBRead     Hook = 4 // qb_rb_chunk_read return (SHM, client receive)
	HookSockRecv   Hook = 5 // recvfrom/recvmsg/readv syscall on a libqb datagram socket
	HookConnect    Hook = 6 // connection set-up
	HookDisconnect Hook = 7 // connection teardown
)

// Flags are per-record bits.
type Flags uint32

const (
	FlagTruncated Flags = 1 << 0 // Data is shorter than OrigLen (snaplen or copy limit)
	FlagMore      Flags = 1 << 1 // on disk only: continuation packets follow
	FlagCont      Flags = 1 << 2 // on disk only: this packet continues an earlier one
	FlagRX        Flags = 1 << 3 // seen on the receive side
)

// LossCause says why messages were lost.
type LossCause uint32

const (
	LossUnknown    LossCause = 0
	LossRingFull   LossCause = 1 // the BPF ring buffer had no room
	LossCopyFailed LossCause = 2 // reading the message from user memory failed
	LossTooLarge   LossCause = 3 // the message had more pieces than the probe may emit
	LossReassembly LossCause = 4 // the recorder could not reassemble a message's pieces
)

// Record is one libqb message (or lifecycle or loss event) as one process saw it.
// [Writer] stores it as one or more pcapng packets and [Reader] gives it back.
type Record struct {
	Kind      Kind
	Time      time.Time // wall clock, nanosecond resolution
	Channel   Channel
	Transport Transport
	Hook      Hook
	Flags     Flags  // FlagTruncated, FlagRX; FlagMore/FlagCont never appear here
	Seq       uint64 // recorder-assigned message sequence number

	OrigLen uint32 // full length of the libqb message (header + payload) as sent

	PID   uint32 // writer's process id (thread group id) in the initial pid namespace
	TID   uint32 // writer's thread id in the initial pid namespace
	NSPID uint32 // writer's pid inside its own pid namespace (equal to PID when not namespaced)
	UID   uint32
	PIDNS uint32 // inode number of the writer's pid namespace
	MntNS uint32 // inode number of the writer's mount namespace

	ClientPID uint32 // client pid as the server sees it (from the connection name)
	ServerPID uint32 // server pid (from the connection name)

	MaxMsgSize uint32    // KindConnect: negotiated maximum message size
	Lost       uint32    // KindLoss: number of messages lost
	Cause      LossCause // KindLoss: why

	Comm    string // writer's command name (at most 15 bytes)
	Service string // libqb service name: cib_rw, crmd, cpg, ... (at most 31 bytes)
	Conn    string // connection key: "qb-<srvpid>-<clipid>-<fd>-<rand6>" (at most 47 bytes)

	Data []byte // the libqb message bytes, at most OrigLen

	// Node is the cluster node the record was made on: set by [Reader] from
	// the section header, or from the record's interface in a merged
	// capture; "" when the file does not say. A [Writer] of a merged
	// capture puts the record on that node's interface; other Writers
	// ignore it.
	Node string

	// Packet is set by [Reader]: the number of the record's first packet in
	// the file, counting from 1 as Wireshark's frame.number does. [Writer]
	// ignores it.
	Packet int
}

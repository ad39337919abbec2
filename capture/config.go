package capture

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// DefaultRingSize is the size of the BPF ring buffer when [Config.RingSize] is 0.
const DefaultRingSize = 16 << 20

// DefaultLatency is how long a record may wait in the ring buffer when
// [Config.Latency] is 0.
const DefaultLatency = 200 * time.Millisecond

// MinRingSize is the smallest ring buffer Open accepts: it must hold the
// largest piece of a message with room to spare.
const MinRingSize = 256 << 10

// Config says what to record. The zero value records every libqb message
// of every process, whole, without the receive side.
type Config struct {
	// LibQB lists the libqb shared objects to probe. Empty: every libqb
	// mapped by a running process (in any mount namespace), then the
	// dynamic linker's directories.
	LibQB []string

	// PIDs keeps messages written by one of these processes (host pids)
	// or sent on a connection whose name carries one of them as client or
	// server pid (pids as the server's pid namespace sees them).
	PIDs []uint32
	// Comms keeps messages written by a process with one of these command
	// names (at most 15 bytes, as the kernel keeps them), and messages
	// written to such a process on its connections (known from the pids in
	// the connection name), so both ends of its conversations.
	Comms []string
	// Services keeps messages of these libqb services (cib_rw, crmd, cpg...).
	Services []string
	// PIDNamespaces keeps messages written by processes in these pid
	// namespaces (inode numbers, as in /proc/PID/ns/pid): a container's or
	// a sandboxed cluster's traffic only. See PIDNamespaceOf.
	PIDNamespaces []uint32

	// Snaplen caps the bytes copied per message; 0 copies whole messages.
	// A capped message is marked [capfile.FlagTruncated].
	Snaplen uint32

	// SnapCompressedWhole copies bzip2-compressed Pacemaker messages whole
	// despite Snaplen: what Snaplen keeps of their start is unreadable, and
	// a reader of the start tag (top) needs it.
	SnapCompressedWhole bool

	// RingSize is the BPF ring buffer size in bytes: a power of two, at
	// least MinRingSize. 0 means DefaultRingSize.
	RingSize int

	// Latency bounds how long a record waits in the ring buffer before Read
	// can return it, while the ring is less than a quarter full (the
	// programs wake the reader only then; it polls otherwise). 0 means
	// DefaultLatency. Each wake-up costs the reader CPU, so shorter is dearer
	// at low rates: 50 ms instead of 200 ms cost a quarter more CPU per message
	// at 14,000 messages/s.
	Latency time.Duration

	// RX adds the receive side (qb_rb_chunk_peek and qb_rb_chunk_read
	// returns, recvfrom on libqb sockets): two more probe hits per message.
	RX bool

	// NoSocket leaves out the socket transport (its syscall tracepoints).
	// Without it, the tracepoints are attached at Open when a process owns
	// libqb datagram sockets, else once a libqb socket server starts or a
	// client of one connects (see [Config.OnSocketTransport]): until then no
	// system call pays for them.
	NoSocket bool

	// OnSocketTransport, when set, is called (from another goroutine) when
	// the socket transport's hooks were attached after Open, because a
	// process of that transport appeared: what it sent before they were
	// attached is not recorded (SocketTransport.Delay says how long that was).
	OnSocketTransport func(SocketTransport)

	// EmptyPrograms attaches every hook as usual but with programs that do
	// nothing, so nothing is recorded: what the hooks alone cost, the floor
	// against which benchmarks weigh the recorder's own work.
	EmptyPrograms bool

	// ProbeAtEntry attaches every uprobe at its function's first
	// instruction, which the kernel then single-steps, as uprobes usually
	// are. Without it, a function probed at its entry only is probed on its
	// first instruction the kernel emulates instead, when only harmless
	// instructions come before it: one exception per hit instead of two.
	// For benchmarks that weigh the difference.
	ProbeAtEntry bool

	// OnNewLibrary, when set, is called (from another goroutine) for each
	// libqb file that a process maps after Open: a package upgrade's new
	// file, or a copy under LD_LIBRARY_PATH. Open's watcher finds such files
	// by looking at new processes every [WatchInterval] and probes them
	// (Library.Err says why not); what such a process sent before is not
	// recorded. Without LibQB only: named files are all that is probed.
	OnNewLibrary func(Library)
}

// ReadLatency returns Latency, or DefaultLatency when it is 0 or less.
func (c *Config) ReadLatency() time.Duration {
	if c.Latency <= 0 {
		return DefaultLatency
	}
	return c.Latency
}

// Library is a libqb shared object Open found, and whether it is probed.
type Library struct {
	Path    string // as opened, for example /proc/1234/map_files/7f0c2e5a1000-7f0c2e5b3000
	Name    string // as processes map it, for example /usr/lib/x86_64-linux-gnu/libqb.so.100.3.0
	Version string // libqb version from its qb_ver symbol ("2.0.6"), else from the file name
	Dev     uint64 // device and inode: uprobes attach per inode
	Ino     uint64
	Err     error  // why it is not probed, nil when it is
	PID     int    // found after Open: a process that maps it (host pid)
	Comm    string // and its command name

	alts []string // other paths to the same file, tried when Path has gone (its process ended)
}

// Stats are counters since Open.
type Stats struct {
	Messages uint64 // message records returned by Read
	Bytes    uint64 // message bytes returned by Read

	// Lost counts messages that could not be recorded, per cause.
	// capfile.LossUnknown counts probe runs the kernel skipped because
	// another BPF program was running on that CPU (each may have cost one).
	Lost map[capfile.LossCause]uint64
	// Truncated counts messages longer than the copy limit (20 MiB),
	// recorded truncated; snaplen truncation is not counted.
	Truncated uint64

	CommitHits    uint64 // qb_rb_chunk_commit probe hits (IPC and other rings)
	OtherRings    uint64 // of which on rings that are not IPC (libqb blackbox)
	SocketHits    uint64 // send syscalls on libqb datagram sockets
	LifecycleHits uint64 // connect and disconnect probe hits
	RXHits        uint64 // receive-side probe hits (Config.RX)
	Filtered      uint64 // messages left out by PIDs, Comms or Services
}

// LostTotal returns the sum of s.Lost.
func (s Stats) LostTotal() uint64 {
	var n uint64
	for _, v := range s.Lost {
		n += v
	}
	return n
}

// ErrUnsupported is returned by Open where capture cannot run (not Linux on x86_64).
var ErrUnsupported = errors.New("capture: needs Linux on x86_64")

// ErrPermission is returned (wrapped) by Open when the process lacks the
// privileges to load BPF programs; the message names what is missing.
var ErrPermission = errors.New("capture: not permitted")

// ErrNoLibQB is returned (wrapped) by Open when no libqb could be probed.
var ErrNoLibQB = errors.New("capture: no libqb to probe")

// PIDNamespaceOf returns the inode number of the pid namespace of process pid, for
// Config.PIDNamespaces.
func PIDNamespaceOf(pid int) (uint32, error) {
	l, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/pid", pid))
	if err != nil {
		return 0, fmt.Errorf("pid namespace of %d: %w", pid, err)
	}
	var ino uint32
	if _, err := fmt.Sscanf(l, "pid:[%d]", &ino); err != nil {
		return 0, fmt.Errorf("pid namespace of %d: unexpected link %q", pid, l)
	}
	return ino, nil
}

// SocketTransport tells that the socket transport's hooks were attached after
// Open, for the process that first used that transport.
type SocketTransport struct {
	PID   uint32        // the process: a socket server starting or a client connecting
	Comm  string        // its command
	Delay time.Duration // from its start or connect to the hooks attached: not recorded
	Err   error         // the hooks could not be attached: the socket transport is not recorded
}

//go:build linux && amd64

package capture

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// pollInterval bounds how long records wait in the ring buffer: the
// programs do not wake the reader per record (only when the ring is more
// than a quarter full), so the reader polls.
const pollInterval = 50 * time.Millisecond

// counterInterval is how often Read turns kernel loss counters into records.
const counterInterval = 200 * time.Millisecond

// partialTimeout is how long a message whose pieces stopped coming is kept.
// All pieces of a message are emitted by one program run, so a gap this long
// means the kernel gave up on it (and counted why).
const partialTimeout = 5 * time.Second

// Tracer records libqb IPC messages. Read returns them; Close detaches.
// Read must not be called concurrently; Stats and Close may be called from
// any goroutine.
type Tracer struct {
	coll   *ebpf.Collection
	links  []link.Link
	reader *ringbuf.Reader
	libs   []Library

	counters *ebpf.Map
	wallOff  int64 // CLOCK_REALTIME - CLOCK_MONOTONIC, ns

	// Read's state.
	rec        ringbuf.Record
	comms      interner
	services   interner
	conns      interner
	partial    map[uint64]*partialMsg
	queue      []*capfile.Record
	spare      []*capfile.Record // handed back by Recycle, reused by newRecord
	seq        uint64
	lastPoll   time.Time
	reported   [numCounters]uint64 // loss counters already turned into records
	reportedRA uint64              // reassembly losses already turned into records
	reportedMS uint64              // missed program runs already turned into records
	pieces     uint64              // ring buffer reads, to read the clock only now and then
	rearm      bool                // the poll deadline passed: set a new one
	draining   bool
	lastDrain  bool
	done       bool
	ctx        context.Context
	stopNotify func() bool

	messages   atomic.Uint64
	bytes      atomic.Uint64
	reassembly atomic.Uint64 // pieces that did not fit a message (LossReassembly)
	closeOnce  sync.Once
	closeErr   error
}

type partialMsg struct {
	rec  *capfile.Record
	got  uint32
	seen time.Time
}

const numCounters = int(ipcIpcCounterIPC_COUNTER_MAX)

// lossCauses maps kernel loss counters to capfile causes.
var lossCauses = []struct {
	counter ipcIpcCounter
	cause   capfile.LossCause
}{
	{ipcIpcCounterIPC_LOST_RING_FULL, capfile.LossRingFull},
	{ipcIpcCounterIPC_LOST_COPY_FAILED, capfile.LossCopyFailed},
	{ipcIpcCounterIPC_LOST_TOO_LARGE, capfile.LossTooLarge},
}

// Open loads the BPF programs, attaches them to every libqb (see
// [Config.LibQB]) and to the socket-transport syscalls, and opens the ring
// buffer. If Open fails halfway it undoes what it did. The caller must call
// [Tracer.Close].
func Open(cfg Config) (*Tracer, error) {
	if err := checkPrivileges(); err != nil {
		return nil, err
	}
	ringSize := cfg.RingSize
	if ringSize == 0 {
		ringSize = DefaultRingSize
	}
	if ringSize < MinRingSize || ringSize&(ringSize-1) != 0 {
		return nil, fmt.Errorf("ring size %d: want a power of two of at least %d", ringSize, MinRingSize)
	}
	for _, c := range cfg.Comms {
		if len(c) > 15 {
			return nil, fmt.Errorf("comm %q: longer than 15 bytes, the kernel keeps 15", c)
		}
	}
	for _, s := range cfg.Services {
		if len(s) > 31 {
			return nil, fmt.Errorf("service %q: longer than 31 bytes", s)
		}
	}
	if err := rlimit.RemoveMemlock(); err != nil {
		return nil, fmt.Errorf("remove memlock limit: %w", err)
	}

	t := &Tracer{partial: map[uint64]*partialMsg{}, wallOff: wallClockOffset()}
	ok := false
	defer func() {
		if !ok {
			t.Close()
		}
	}()

	spec, err := loadIpc()
	if err != nil {
		return nil, err
	}
	if err := configure(spec, cfg, ringSize); err != nil {
		return nil, err
	}
	t.coll, err = ebpf.NewCollection(spec)
	if err != nil {
		return nil, fmt.Errorf("load BPF programs: %w", err)
	}
	t.counters = t.coll.Maps[ipcMapCounters]
	if err := fillFilters(t.coll, cfg); err != nil {
		return nil, err
	}
	if err := t.attachProcessHooks(cfg); err != nil {
		return nil, err
	}

	if err := t.attachLibraries(cfg); err != nil {
		return nil, err
	}
	if !cfg.NoSocket {
		if err := t.attachSyscalls(cfg.RX); err != nil {
			return nil, err
		}
	}

	t.reader, err = ringbuf.NewReader(t.coll.Maps[ipcMapEvents])
	if err != nil {
		return nil, fmt.Errorf("open ring buffer reader: %w", err)
	}
	t.lastPoll = time.Now()
	t.rearm = true // the first read waits until a deadline too
	ok = true
	return t, nil
}

// configure sets the run-time knobs and map sizes, and drops the programs cfg does not need.
func configure(spec *ebpf.CollectionSpec, cfg Config, ringSize int) error {
	spec.Maps[ipcMapEvents].MaxEntries = uint32(ringSize)
	for name, n := range map[string]int{
		ipcMapFilterPids:     len(cfg.PIDs),
		ipcMapFilterComms:    len(cfg.Comms),
		ipcMapFilterServices: len(cfg.Services),
		ipcMapFilterPidnss:   len(cfg.PIDNamespaces),
	} {
		spec.Maps[name].MaxEntries = uint32(max(n, 1))
	}
	vars := map[string]any{
		ipcVarSnaplen:       cfg.Snaplen,
		ipcVarFilterPid:     boolByte(len(cfg.PIDs) > 0),
		ipcVarFilterComm:    boolByte(len(cfg.Comms) > 0),
		ipcVarFilterService: boolByte(len(cfg.Services) > 0),
		ipcVarFilterPidns:   boolByte(len(cfg.PIDNamespaces) > 0),
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return fmt.Errorf("set %s: %w", name, err)
		}
	}
	drop := []string{}
	if !cfg.RX {
		drop = append(drop, ipcProgRbPeek, ipcProgRbPeekRet, ipcProgRbRead, ipcProgRbReadRet,
			ipcProgSysEnterRecvfrom, ipcProgSysExitRecvfrom)
	}
	if cfg.NoSocket {
		drop = append(drop, ipcProgSysEnterBind, ipcProgProcessFork, ipcProgSysEnterSendto, ipcProgSysExitSendto, ipcProgSysEnterWritev,
			ipcProgSysExitWritev, ipcProgSysEnterSendmsg, ipcProgSysExitSendmsg,
			ipcProgSysEnterRecvfrom, ipcProgSysExitRecvfrom)
		if len(cfg.Comms) == 0 {
			drop = append(drop, ipcProgProcessExec) // --comm follows exec
		}
	}
	for _, p := range drop {
		delete(spec.Programs, p)
	}
	if cfg.EmptyPrograms {
		for _, p := range spec.Programs {
			p.Instructions = asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}
		}
	}
	return nil
}

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func fillFilters(coll *ebpf.Collection, cfg Config) error {
	one := uint8(1)
	for _, ns := range cfg.PIDNamespaces {
		if err := coll.Maps[ipcMapFilterPidnss].Put(ns, one); err != nil {
			return fmt.Errorf("pid namespace filter: %w", err)
		}
	}
	for _, pid := range cfg.PIDs {
		if err := coll.Maps[ipcMapFilterPids].Put(pid, one); err != nil {
			return fmt.Errorf("pid filter: %w", err)
		}
	}
	for _, c := range cfg.Comms {
		var key [16]byte
		copy(key[:], c)
		if err := coll.Maps[ipcMapFilterComms].Put(key, one); err != nil {
			return fmt.Errorf("comm filter: %w", err)
		}
	}
	for _, s := range cfg.Services {
		var key [32]byte
		copy(key[:], s)
		if err := coll.Maps[ipcMapFilterServices].Put(key, one); err != nil {
			return fmt.Errorf("service filter: %w", err)
		}
	}
	return nil
}

// uprobes lists the libqb functions probed, the program run at entry or
// return, and whether the probe needs Config.RX.
var uprobes = []struct {
	symbol string
	prog   string
	ret    bool
	rx     bool
}{
	// Return probes first: a return must never miss its entry's record.
	{"qb_ipcc_shm_connect", ipcProgIpccShmConnectRet, true, false},
	{"qb_ipcc_us_connect", ipcProgIpccUsConnectRet, true, false},
	{"qb_rb_chunk_peek", ipcProgRbPeekRet, true, true},
	{"qb_rb_chunk_read", ipcProgRbReadRet, true, true},
	{"qb_ipcc_shm_connect", ipcProgIpccShmConnect, false, false},
	{"qb_ipcc_us_connect", ipcProgIpccUsConnect, false, false},
	{"qb_ipcs_disconnect", ipcProgIpcsDisconnect, false, false},
	{"qb_rb_chunk_peek", ipcProgRbPeek, false, true},
	{"qb_rb_chunk_read", ipcProgRbRead, false, true},
	{"qb_rb_chunk_commit", ipcProgRbCommit, false, false},
}

func (t *Tracer) attachLibraries(cfg Config) error {
	libs := findLibraries(cfg.LibQB)
	symbols := append([]string(nil), requiredSymbols...)
	for _, u := range uprobes {
		if !u.rx || cfg.RX {
			symbols = append(symbols, u.symbol)
		}
	}
	attached := 0
	for i := range libs {
		lib := &libs[i]
		if lib.Err != nil {
			continue
		}
		lib.Version, lib.Err = inspectLibrary(lib.Path, symbols)
		if lib.Err != nil {
			continue
		}
		if lib.Err = t.attachLibrary(lib.Path, cfg.RX); lib.Err == nil {
			attached++
		}
	}
	t.libs = libs
	if attached == 0 {
		var errs []error
		for _, l := range libs {
			errs = append(errs, fmt.Errorf("%s: %w", l.Path, l.Err))
		}
		if len(errs) == 0 {
			return fmt.Errorf("%w: none mapped by a process nor in %s", ErrNoLibQB, strings.Join(libDirs, ", "))
		}
		return fmt.Errorf("%w: %w", ErrNoLibQB, errors.Join(errs...))
	}
	if len(cfg.LibQB) > 0 {
		// Named explicitly: every one must work.
		for _, l := range libs {
			if l.Err != nil {
				return fmt.Errorf("%s: %w", l.Path, l.Err)
			}
		}
	}
	return nil
}

func (t *Tracer) attachLibrary(path string, rx bool) error {
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return err
	}
	var links []link.Link
	for _, u := range uprobes {
		if u.rx && !rx {
			continue
		}
		prog := t.coll.Programs[u.prog]
		var l link.Link
		if u.ret {
			l, err = ex.Uretprobe(u.symbol, prog, nil)
		} else {
			l, err = ex.Uprobe(u.symbol, prog, nil)
		}
		if err != nil {
			for _, l := range links {
				l.Close()
			}
			return fmt.Errorf("attach uprobe %s: %w", u.symbol, err)
		}
		links = append(links, l)
	}
	t.links = append(t.links, links...)
	return nil
}

// syscalls are the tracepoints of the socket transport, exit before enter.
var syscalls = []struct {
	name string
	prog string
	rx   bool
}{
	{"sys_exit_sendto", ipcProgSysExitSendto, false},
	{"sys_exit_writev", ipcProgSysExitWritev, false},
	{"sys_exit_sendmsg", ipcProgSysExitSendmsg, false},
	{"sys_exit_recvfrom", ipcProgSysExitRecvfrom, true},
	{"sys_enter_sendto", ipcProgSysEnterSendto, false},
	{"sys_enter_writev", ipcProgSysEnterWritev, false},
	{"sys_enter_sendmsg", ipcProgSysEnterSendmsg, false},
	{"sys_enter_recvfrom", ipcProgSysEnterRecvfrom, true},
}

// attachSyscalls attaches the socket transport's programs. Tracepoints are
// found through tracefs; when it is not mounted, they are attached from a
// thread that mounts tracefs in a mount namespace of its own, so the host's
// mounts are left alone (and other tools see no tracefs come and go).
func (t *Tracer) attachSyscalls(rx bool) error {
	if tracefsMounted() {
		return t.attachSyscallsHere(rx)
	}
	errc := make(chan error, 1)
	go func() {
		// Never unlocked: the thread exits with its namespace when this
		// goroutine ends, and no other goroutine runs on it.
		runtime.LockOSThread()
		errc <- func() error {
			if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
				return fmt.Errorf("unshare mount namespace to mount tracefs: %w", err)
			}
			if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
				return fmt.Errorf("make mounts private: %w", err)
			}
			const dir = "/sys/kernel/tracing"
			if err := unix.Mount("nodev", dir, "tracefs", 0, ""); err != nil {
				return fmt.Errorf("mount tracefs on %s (needed for the socket transport's syscall tracepoints): %w", dir, err)
			}
			return t.attachSyscallsHere(rx)
		}()
	}()
	return <-errc
}

// attachProcessHooks attaches the fork and exec programs the configuration
// kept, then names the processes already running that --comm matches:
// from then on the exec program follows new ones, so none falls between.
func (t *Tracer) attachProcessHooks(cfg Config) error {
	for name, prog := range map[string]string{
		"sched_process_fork": ipcProgProcessFork,
		"sched_process_exec": ipcProgProcessExec,
	} {
		if t.coll.Programs[prog] == nil {
			continue // dropped by configure
		}
		l, err := link.AttachTracing(link.TracingOptions{Program: t.coll.Programs[prog]})
		if err != nil {
			return fmt.Errorf("attach tp_btf %s: %w", name, err)
		}
		t.links = append(t.links, l)
	}
	// What is written to processes --comm names is kept too.
	for _, p := range processesNamed(cfg.Comms) {
		if err := t.coll.Maps[ipcMapCommProcs].Put(p, uint8(1)); err != nil {
			return fmt.Errorf("comm filter: %w", err)
		}
	}
	return nil
}

func (t *Tracer) attachSyscallsHere(rx bool) error {
	// Learn which processes own libqb datagram sockets before watching
	// their sends: first the binds (forks are followed since Open attached
	// the process hooks), then those already running.
	bind, err := link.Tracepoint("syscalls", "sys_enter_bind", t.coll.Programs[ipcProgSysEnterBind], nil)
	if err != nil {
		return fmt.Errorf("attach tracepoint sys_enter_bind: %w", err)
	}
	t.links = append(t.links, bind)
	owners := t.coll.Maps[ipcMapSocketOwners]
	for _, pid := range socketOwners() {
		if err := owners.Put(pid, uint8(1)); err != nil {
			return fmt.Errorf("socket owners: %w", err)
		}
	}

	for _, s := range syscalls {
		if s.rx && !rx {
			continue
		}
		l, err := link.Tracepoint("syscalls", s.name, t.coll.Programs[s.prog], nil)
		if err != nil {
			return fmt.Errorf("attach tracepoint %s: %w", s.name, err)
		}
		t.links = append(t.links, l)
	}
	return nil
}

// tracefsMounted reports whether this thread sees tracefs (or debugfs with
// its tracing directory) mounted.
func tracefsMounted() bool {
	data, err := os.ReadFile("/proc/thread-self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		// id parent dev root mount-point ... - fstype source options
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 1 || f[3] != "/" {
			continue
		}
		if g[0] == "tracefs" {
			return true
		}
		if g[0] == "debugfs" {
			if _, err := os.Stat(f[4] + "/tracing/events"); err == nil {
				return true
			}
		}
	}
	return false
}

// checkPrivileges returns an ErrPermission naming the missing capabilities.
func checkPrivileges() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // let the kernel say no
	}
	has := func(c int) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if has(unix.CAP_SYS_ADMIN) {
		return nil
	}
	var missing []string
	if !has(unix.CAP_BPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(unix.CAP_PERFMON) {
		missing = append(missing, "CAP_PERFMON")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: run as root or with CAP_BPF and CAP_PERFMON (missing %s)", ErrPermission, strings.Join(missing, ", "))
}

// wallClockOffset returns CLOCK_REALTIME - CLOCK_MONOTONIC (bpf_ktime_get_ns).
func wallClockOffset() int64 {
	var r1, m, r2 unix.Timespec
	best := int64(-1)
	var off int64
	for i := 0; i < 5; i++ {
		unix.ClockGettime(unix.CLOCK_REALTIME, &r1)
		unix.ClockGettime(unix.CLOCK_MONOTONIC, &m)
		unix.ClockGettime(unix.CLOCK_REALTIME, &r2)
		if d := r2.Nano() - r1.Nano(); best < 0 || d < best {
			best = d
			off = r1.Nano() + d/2 - m.Nano()
		}
	}
	return off
}

// Libraries returns the libqb files Open found, probed or not (Err says why not).
func (t *Tracer) Libraries() []Library {
	return append([]Library(nil), t.libs...)
}

// Read returns the next record: a message, a connection event, or a loss
// record when the kernel counted messages it could not record. It blocks
// until one is available. Once ctx is done, Read returns what is still in
// the ring buffer and then io.EOF. After Close it returns an error wrapping
// os.ErrClosed.
func (t *Tracer) Read(ctx context.Context) (*capfile.Record, error) {
	if ctx != t.ctx {
		// Wake the reader as soon as ctx is done rather than at the next poll.
		if t.stopNotify != nil {
			t.stopNotify()
		}
		t.ctx = ctx
		r := t.reader
		t.stopNotify = context.AfterFunc(ctx, func() { r.Flush() })
	}
	for {
		if len(t.queue) > 0 {
			rec := t.queue[0]
			t.queue[0] = nil
			t.queue = t.queue[1:]
			return rec, nil
		}
		if t.done {
			return nil, io.EOF
		}
		// The clock is read once per 64 pieces while they flow, and the
		// deadline set again only after it passed: at tens of thousands
		// of messages a second, reading the clock twice per message was a
		// noticeable part of the reader's time.
		if t.pieces++; t.pieces&63 == 0 || t.rearm {
			if time.Since(t.lastPoll) >= counterInterval {
				t.housekeeping(false)
				continue
			}
		}
		if !t.draining && ctx.Err() != nil {
			t.draining = true
			t.reader.SetDeadline(time.Unix(1, 0)) // only what is there
		}
		if t.rearm && !t.draining {
			t.reader.SetDeadline(time.Now().Add(pollInterval))
		}
		t.rearm = false
		err := t.reader.ReadInto(&t.rec)
		switch {
		case err == nil:
			if rec := t.piece(t.rec.RawSample); rec != nil {
				return rec, nil
			}
		case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, ringbuf.ErrFlushed):
			// The ring is empty (it may have been for a while): wait for the
			// next pieces until a fresh deadline.
			t.rearm = true
			if t.draining {
				if len(t.partial) > 0 && !t.lastDrain {
					// A program may still be emitting pieces: once more.
					t.lastDrain = true
					time.Sleep(20 * time.Millisecond)
					continue
				}
				t.housekeeping(true)
				t.done = true
			}
		case errors.Is(err, ringbuf.ErrClosed):
			return nil, fmt.Errorf("capture: read: %w", os.ErrClosed)
		default:
			return nil, fmt.Errorf("read ring buffer: %w", err)
		}
	}
}

// piece adds one ring buffer record; it returns a record once complete.
func (t *Tracer) piece(raw []byte) *capfile.Record {
	const hdrSize = int(unsafe.Sizeof(ipcIpcHdr{}))
	if len(raw) < hdrSize {
		t.reassembly.Add(1)
		return nil
	}
	h := (*ipcIpcHdr)(unsafe.Pointer(&raw[0]))
	data := raw[hdrSize:]
	if int(h.Len) > len(data) || h.Offset > h.CapLen || h.Len > h.CapLen-h.Offset {
		t.reassembly.Add(1)
		return nil
	}
	data = data[:h.Len]

	if h.Offset == 0 && h.Len == h.CapLen {
		rec := t.newRecord(h)
		copy(rec.Data, data)
		return t.complete(rec)
	}
	p := t.partial[h.Seq]
	if p == nil {
		if h.Offset != 0 {
			// The start was never seen: the reader began mid-message, or
			// the kernel gave up on it. Either way it is already counted.
			return nil
		}
		p = &partialMsg{rec: t.newRecord(h)}
		t.partial[h.Seq] = p
	}
	copy(p.rec.Data[h.Offset:], data)
	p.got += h.Len
	p.seen = time.Now()
	if p.got < h.CapLen {
		return nil
	}
	delete(t.partial, h.Seq)
	return t.complete(p.rec)
}

func (t *Tracer) newRecord(h *ipcIpcHdr) *capfile.Record {
	var rec *capfile.Record
	var data []byte
	if n := len(t.spare); n > 0 && cap(t.spare[n-1].Data) >= int(h.CapLen) {
		rec = t.spare[n-1]
		data = rec.Data[:h.CapLen]
		t.spare[n-1] = nil
		t.spare = t.spare[:n-1]
	} else {
		rec = new(capfile.Record)
		if h.CapLen > 0 {
			data = make([]byte, h.CapLen)
		}
	}
	*rec = capfile.Record{
		Kind:       capfile.Kind(h.Kind),
		Time:       time.Unix(0, int64(h.Ktime)+t.wallOff),
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
		Comm:       t.comms.get(h.Comm[:]),
		Service:    t.services.get(h.Service[:]),
		Conn:       t.conns.get(h.Conn[:]),
	}
	rec.ServerPID, rec.ClientPID = connPIDs(rec.Conn)
	rec.Data = data
	return rec
}

// Recycle hands back a record Read returned and the caller no longer uses,
// nor anything pointing into its Data: the next messages reuse its memory,
// so a recorder that writes each record out allocates little per message
// (and the garbage collector stays off the CPUs the cluster needs).
func (t *Tracer) Recycle(rec *capfile.Record) {
	if rec == nil || cap(rec.Data) == 0 || cap(rec.Data) > maxSpareData || len(t.spare) >= maxSpare {
		return
	}
	t.spare = append(t.spare, rec)
}

// maxSpare and maxSpareData bound the memory Recycle keeps.
const (
	maxSpare     = 64
	maxSpareData = 64 << 10
)

// connPIDs returns the server and client pids of a connection key,
// "qb-<srvpid>-<clipid>-<fd>-<rand6>", as the server's pid namespace sees them.
func connPIDs(conn string) (server, client uint32) {
	rest, ok := strings.CutPrefix(conn, "qb-")
	if !ok {
		return 0, 0
	}
	var pids [2]uint64
	for i := range pids {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' && n < 10 {
			pids[i] = pids[i]*10 + uint64(rest[n]-'0')
			n++
		}
		if n == 0 || n >= len(rest) || rest[n] != '-' || pids[i] > 1<<32-1 {
			return 0, 0
		}
		rest = rest[n+1:]
	}
	return uint32(pids[0]), uint32(pids[1])
}

func (t *Tracer) complete(rec *capfile.Record) *capfile.Record {
	t.seq++
	rec.Seq = t.seq
	if rec.Kind == capfile.KindMessage {
		t.messages.Add(1)
		t.bytes.Add(uint64(len(rec.Data)))
	}
	return rec
}

// interner hands out one string per distinct comm, service or connection
// name: a message would otherwise allocate three. Messages come in runs of
// one connection, so the last string is tried before the map.
type interner struct {
	last []byte
	str  string
	m    map[string]string
}

func (in *interner) get(field []int8) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(field))), len(field))
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if in.m != nil && bytes.Equal(b, in.last) {
		return in.str
	}
	s, ok := in.m[string(b)] // no allocation: the compiler sees the lookup
	if !ok {
		if in.m == nil || len(in.m) > 4096 {
			in.m = map[string]string{}
		}
		s = string(b)
		in.m[s] = s
	}
	in.last = append(in.last[:0], b...)
	in.str = s
	return s
}

// housekeeping queues loss records for new kernel loss counts and drops
// messages whose pieces stopped coming. final drops every partial message.
func (t *Tracer) housekeeping(final bool) {
	now := time.Now()
	t.lastPoll = now
	// Follow clock adjustments (NTP) over long recordings.
	t.wallOff = wallClockOffset()
	for seq, p := range t.partial {
		if final || now.Sub(p.seen) > partialTimeout {
			delete(t.partial, seq)
		}
	}
	c, err := t.readCounters()
	if err != nil {
		return
	}
	for _, lc := range lossCauses {
		n := c[lc.counter] - t.reported[lc.counter]
		if n == 0 {
			continue
		}
		t.reported[lc.counter] = c[lc.counter]
		t.queue = append(t.queue, t.lossRecord(now, n, lc.cause))
	}
	if n := t.reassembly.Load() - t.reportedRA; n > 0 {
		t.reportedRA += n
		t.queue = append(t.queue, t.lossRecord(now, n, capfile.LossReassembly))
	}
	if n := t.missed() - t.reportedMS; n > 0 {
		t.reportedMS += n
		t.queue = append(t.queue, t.lossRecord(now, n, capfile.LossUnknown))
	}
}

// missed returns how many times the kernel skipped one of the programs
// because another BPF program was running on that CPU (tracepoints only;
// uprobes are not skipped). Each may have cost a message.
func (t *Tracer) missed() uint64 {
	var n uint64
	if t.coll == nil {
		return 0
	}
	for _, p := range t.coll.Programs {
		if st, err := p.Stats(); err == nil {
			n += st.RecursionMisses
		}
	}
	return n
}

func (t *Tracer) lossRecord(now time.Time, n uint64, cause capfile.LossCause) *capfile.Record {
	t.seq++
	return &capfile.Record{
		Kind:  capfile.KindLoss,
		Time:  now,
		Seq:   t.seq,
		Lost:  uint32(min(n, 1<<32-1)),
		Cause: cause,
	}
}

func (t *Tracer) readCounters() ([numCounters]uint64, error) {
	var out [numCounters]uint64
	if t.counters == nil {
		return out, os.ErrClosed
	}
	var perCPU []uint64
	for i := 0; i < numCounters; i++ {
		if err := t.counters.Lookup(uint32(i), &perCPU); err != nil {
			return out, fmt.Errorf("read counters: %w", err)
		}
		for _, v := range perCPU {
			out[i] += v
		}
	}
	return out, nil
}

// Stats returns the counters since Open.
func (t *Tracer) Stats() Stats {
	s := Stats{
		Messages: t.messages.Load(),
		Bytes:    t.bytes.Load(),
		Lost:     map[capfile.LossCause]uint64{},
	}
	if n := t.reassembly.Load(); n > 0 {
		s.Lost[capfile.LossReassembly] = n
	}
	c, err := t.readCounters()
	if err != nil {
		return s
	}
	for _, lc := range lossCauses {
		if c[lc.counter] > 0 {
			s.Lost[lc.cause] = c[lc.counter]
		}
	}
	if n := t.missed(); n > 0 {
		s.Lost[capfile.LossUnknown] = n
	}
	s.Truncated = c[ipcIpcCounterIPC_TRUNCATED_LIMIT]
	s.CommitHits = c[ipcIpcCounterIPC_HIT_COMMIT]
	s.OtherRings = c[ipcIpcCounterIPC_SKIP_OTHER_RING]
	s.SocketHits = c[ipcIpcCounterIPC_HIT_SOCK]
	s.LifecycleHits = c[ipcIpcCounterIPC_HIT_LIFECYCLE]
	s.RXHits = c[ipcIpcCounterIPC_HIT_RX]
	s.Filtered = c[ipcIpcCounterIPC_SKIP_FILTER]
	return s
}

// Close closes the reader (a blocked Read returns), detaches every probe
// and frees the BPF objects.
func (t *Tracer) Close() error {
	t.closeOnce.Do(func() {
		var errs []error
		if t.reader != nil {
			errs = append(errs, t.reader.Close())
		}
		// Each detach waits for an RCU grace period: do them together.
		linkErrs := make([]error, len(t.links))
		var wg sync.WaitGroup
		for i, l := range t.links {
			wg.Go(func() { linkErrs[i] = l.Close() })
		}
		wg.Wait()
		errs = append(errs, linkErrs...)
		if t.coll != nil {
			t.coll.Close()
		}
		t.closeErr = errors.Join(errs...)
	})
	return t.closeErr
}

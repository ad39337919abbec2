//go:build linux && amd64

package capture

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cilium/ebpf/link"
)

// uprobes lists the libqb functions probed, the program run at entry or
// return, whether the probe needs Config.RX, and how many arguments an
// entry program reads, as its BPF_KPROBE signature in bpf/ipc.c says (the
// registers an entry probe placed further in, on an emulated instruction,
// must find unchanged; TestUprobeArgsMatchPrograms).
var uprobes = []struct {
	symbol string
	prog   string
	ret    bool
	rx     bool
	args   int
}{
	// Return probes first: a return must never miss its entry's record.
	{"qb_ipcc_shm_connect", ipcProgIpccShmConnectRet, true, false, 0},
	{"qb_ipcc_us_connect", ipcProgIpccUsConnectRet, true, false, 0},
	{"qb_rb_chunk_peek", ipcProgRbPeekRet, true, true, 0},
	{"qb_rb_chunk_read", ipcProgRbReadRet, true, true, 0},
	{"qb_ipcc_shm_connect", ipcProgIpccShmConnect, false, false, 2},
	{"qb_ipcc_us_connect", ipcProgIpccUsConnect, false, false, 2},
	{"qb_ipcs_disconnect", ipcProgIpcsDisconnect, false, false, 1},
	{"qb_ipcs_us_init", ipcProgIpcsUsInit, false, false, 1},
	{"qb_rb_chunk_peek", ipcProgRbPeek, false, true, 2},
	{"qb_rb_chunk_read", ipcProgRbRead, false, true, 2},
	{"qb_rb_chunk_commit", ipcProgRbCommit, false, false, 2},
}

func (t *Tracer) attachLibraries(cfg Config) error {
	libs := findLibraries(cfg.LibQB)
	symbols := t.symbols(cfg)
	attached := 0
	for i := range libs {
		lib := &libs[i]
		if lib.Err != nil {
			continue
		}
		t.attachOne(lib, symbols, cfg.RX)
		if lib.Err == nil {
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

// attachOne probes lib, through its spare paths when its path has gone (a path
// through /proc ends with its process), and sets lib.Err.
func (t *Tracer) attachOne(lib *Library, symbols []string, rx bool) {
	for {
		lib.Version, lib.Err = inspectLibrary(lib.Path, symbols)
		if lib.Err == nil {
			lib.Err = t.attachLibrary(lib.Path, rx)
		}
		if lib.Err == nil || len(lib.alts) == 0 {
			return
		}
		lib.Path, lib.alts = lib.alts[0], lib.alts[1:]
	}
}

// symbols lists the libqb functions the configuration probes.
func (t *Tracer) symbols(cfg Config) []string {
	symbols := append([]string(nil), requiredSymbols...)
	for _, u := range uprobes {
		if !u.rx || cfg.RX {
			symbols = append(symbols, u.symbol)
		}
	}
	return symbols
}

func (t *Tracer) attachLibrary(path string, rx bool) error {
	ex, err := link.OpenExecutable(path)
	if err != nil {
		return err
	}
	offsets := t.entryOffsets(path, rx)
	var links []link.Link
	for _, u := range uprobes {
		if u.rx && !rx {
			continue
		}
		prog := t.coll.Programs[u.prog]
		off := offsets[u.symbol] // 0 for a function probed at its return too
		var l link.Link
		switch {
		case u.ret && multiUprobes():
			l, err = ex.UretprobeMulti([]string{u.symbol}, prog, nil)
		case multiUprobes():
			l, err = ex.UprobeMulti([]string{u.symbol}, prog, &link.UprobeMultiOptions{Offsets: []uint64{off}})
		case u.ret:
			l, err = ex.Uretprobe(u.symbol, prog, nil)
		default:
			l, err = ex.Uprobe(u.symbol, prog, &link.UprobeOptions{Offset: off})
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

// entryOffsets returns, per function probed at its entry only, where in it
// the kernel can emulate the instruction it probes (emulated.go), unless
// Config.ProbeAtEntry keeps every probe at the entry. A function probed
// at its return too is left alone: the return probe traps at the entry
// anyway, and one trap serves both.
func (t *Tracer) entryOffsets(path string, rx bool) map[string]uint64 {
	if t.atEntry {
		return nil
	}
	returns := map[string]bool{}
	for _, u := range uprobes {
		if u.ret && (!u.rx || rx) {
			returns[u.symbol] = true
		}
	}
	want := map[string]int{}
	for _, u := range uprobes {
		if !u.ret && !returns[u.symbol] && (!u.rx || rx) {
			want[u.symbol] = u.args
		}
	}
	return emulatedOffsets(path, want)
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
	// Links go to t.links as they come, under t.mu: hooks attached after Open
	// (socket_hooks_linux.go) race with nothing but Close, which waits for them.
	keep := func(l link.Link) {
		t.mu.Lock()
		t.links = append(t.links, l)
		t.mu.Unlock()
	}
	bind, err := link.Tracepoint("syscalls", "sys_enter_bind", t.coll.Programs[ipcProgSysEnterBind], nil)
	if err != nil {
		return fmt.Errorf("attach tracepoint sys_enter_bind: %w", err)
	}
	keep(bind)
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
		keep(l)
	}
	t.socketHooks.Store(true)
	return nil
}

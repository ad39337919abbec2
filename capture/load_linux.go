//go:build linux && amd64

package capture

import (
	"fmt"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"
)

// multiUprobes reports whether the kernel attaches uprobes through uprobe_multi links
// (Linux 6.6). Their detach waits for one RCU grace period per link, while a classic
// uprobe's perf event waits for its own under a global lock: with a few libqb files
// probed on a busy machine, closing took tens of seconds, or the process's exit did.
var multiUprobes = sync.OnceValue(func() bool { return features.HaveBPFLinkUprobeMulti() == nil })

// configure sets the run-time knobs and map sizes, and drops the programs cfg does not need;
// watchExecs is watchesExecs(cfg).
func configure(spec *ebpf.CollectionSpec, cfg Config, ringSize int, watchExecs bool) error {
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
		ipcVarSnaplen:             cfg.Snaplen,
		ipcVarSnapCompressedWhole: boolByte(cfg.SnapCompressedWhole),
		ipcVarRingSize:            uint64(ringSize),
		ipcVarFilterPid:           boolByte(len(cfg.PIDs) > 0),
		ipcVarFilterComm:          boolByte(len(cfg.Comms) > 0),
		ipcVarFilterService:       boolByte(len(cfg.Services) > 0),
		ipcVarFilterPidns:         boolByte(len(cfg.PIDNamespaces) > 0),
		ipcVarWatchExecs:          boolByte(watchExecs),
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
		if len(cfg.Comms) == 0 && !watchExecs {
			drop = append(drop, ipcProgProcessExec) // --comm and the library watcher follow exec
		}
	}
	for _, p := range drop {
		delete(spec.Programs, p)
	}
	if multiUprobes() {
		for _, u := range uprobes {
			if p := spec.Programs[u.prog]; p != nil {
				p.AttachType = ebpf.AttachTraceUprobeMulti
			}
		}
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

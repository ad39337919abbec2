//go:build linux && amd64

package capture

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// The embedded object has the programs, maps and knobs the loader uses.
func TestSpec(t *testing.T) {
	spec, err := loadIpc()
	if err != nil {
		t.Fatal(err)
	}
	var objs ipcSpecs
	if err := spec.Assign(&objs); err != nil {
		t.Fatal(err)
	}
	for _, u := range uprobes {
		p := spec.Programs[u.prog]
		if p == nil {
			t.Fatalf("no program %s", u.prog)
		}
		if p.Type != ebpf.Kprobe {
			t.Errorf("%s: type %v, want Kprobe (uprobe)", u.prog, p.Type)
		}
	}
	for _, s := range syscalls {
		p := spec.Programs[s.prog]
		if p == nil {
			t.Fatalf("no program %s", s.prog)
		}
		if p.Type != ebpf.TracePoint || p.SectionName != "tracepoint/syscalls/"+s.name {
			t.Errorf("%s: type %v section %q", s.prog, p.Type, p.SectionName)
		}
	}
	for name, section := range map[string]string{
		ipcProgSysEnterBind: "tracepoint/syscalls/sys_enter_bind",
		ipcProgProcessFork:  "tp_btf/sched_process_fork",
		ipcProgProcessExec:  "tp_btf/sched_process_exec",
	} {
		if p := spec.Programs[name]; p == nil || p.SectionName != section {
			t.Errorf("%s: want section %s", name, section)
		}
	}
	if got := len(uprobes) + len(syscalls) + 3; got != len(spec.Programs) {
		t.Errorf("%d programs attached by the loader, %d in the object", got, len(spec.Programs))
	}

	ev := spec.Maps[ipcMapEvents]
	if ev.Type != ebpf.RingBuf || ev.MaxEntries != DefaultRingSize {
		t.Errorf("events: %v of %d bytes", ev.Type, ev.MaxEntries)
	}
	if c := spec.Maps[ipcMapCounters]; c.Type != ebpf.PerCPUArray || c.MaxEntries != uint32(numCounters) {
		t.Errorf("counters: %v with %d entries", c.Type, c.MaxEntries)
	}
	for _, v := range []string{ipcVarSnaplen, ipcVarFilterPid, ipcVarFilterComm, ipcVarFilterService} {
		vs := spec.Variables[v]
		if vs == nil || !vs.Constant() {
			t.Errorf("%s: want a const volatile knob", v)
		}
	}
	// Filter keys are as wide as the fields they are compared with.
	if k := spec.Maps[ipcMapFilterComms].KeySize; k != 16 {
		t.Errorf("comm filter key %d bytes", k)
	}
	if k := spec.Maps[ipcMapFilterServices].KeySize; k != 32 {
		t.Errorf("service filter key %d bytes", k)
	}
}

func TestHeaderLayout(t *testing.T) {
	// struct ipc_hdr as bpf2go generated it: 176 bytes, 8-aligned.
	var h ipcIpcHdr
	if s := unsafe.Sizeof(h); s != 176 {
		t.Errorf("sizeof(ipc_hdr) = %d, want 176", s)
	}
	for _, f := range []struct {
		name     string
		off, exp uintptr
	}{
		{"ktime", unsafe.Offsetof(h.Ktime), 0},
		{"seq", unsafe.Offsetof(h.Seq), 8},
		{"orig_len", unsafe.Offsetof(h.OrigLen), 16},
		{"kind", unsafe.Offsetof(h.Kind), 68},
		{"flags", unsafe.Offsetof(h.Flags), 72},
		{"comm", unsafe.Offsetof(h.Comm), 80},
		{"service", unsafe.Offsetof(h.Service), 96},
		{"conn", unsafe.Offsetof(h.Conn), 128},
	} {
		if f.off != f.exp {
			t.Errorf("offset of %s = %d, want %d", f.name, f.off, f.exp)
		}
	}
	if len(h.Comm) != 16 || len(h.Service) != 32 || len(h.Conn) != 48 {
		t.Errorf("string fields %d/%d/%d bytes", len(h.Comm), len(h.Service), len(h.Conn))
	}
}

// The C enums are the capfile values, so the loader converts by casting.
func TestEnumsMatchCapfile(t *testing.T) {
	spec, err := loadIpc()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]uint64{
		"IPC_KIND_MESSAGE":     uint64(capfile.KindMessage),
		"IPC_KIND_CONNECT":     uint64(capfile.KindConnect),
		"IPC_KIND_DISCONNECT":  uint64(capfile.KindDisconnect),
		"IPC_HOOK_RB_COMMIT":   uint64(capfile.HookRBCommit),
		"IPC_HOOK_SOCK_SEND":   uint64(capfile.HookSockSend),
		"IPC_HOOK_RB_PEEK":     uint64(capfile.HookRBPeek),
		"IPC_HOOK_RB_READ":     uint64(capfile.HookRBRead),
		"IPC_HOOK_SOCK_RECV":   uint64(capfile.HookSockRecv),
		"IPC_HOOK_CONNECT":     uint64(capfile.HookConnect),
		"IPC_HOOK_DISCONNECT":  uint64(capfile.HookDisconnect),
		"IPC_CHANNEL_NONE":     uint64(capfile.ChannelNone),
		"IPC_CHANNEL_REQUEST":  uint64(capfile.ChannelRequest),
		"IPC_CHANNEL_RESPONSE": uint64(capfile.ChannelResponse),
		"IPC_CHANNEL_EVENT":    uint64(capfile.ChannelEvent),
		"IPC_TRANSPORT_SHM":    uint64(capfile.TransportSHM),
		"IPC_TRANSPORT_SOCKET": uint64(capfile.TransportSocket),
		"IPC_FLAG_TRUNCATED":   uint64(capfile.FlagTruncated),
		"IPC_FLAG_RX":          uint64(capfile.FlagRX),
	}
	got := enumValues(t, spec)
	for name, v := range want {
		g, ok := got[name]
		if !ok {
			t.Errorf("%s: not in the object's BTF", name)
			continue
		}
		if g != v {
			t.Errorf("%s = %d, capfile says %d", name, g, v)
		}
	}
}

func TestLossCauses(t *testing.T) {
	spec, err := loadIpc()
	if err != nil {
		t.Fatal(err)
	}
	names := map[uint64]string{}
	var e *btf.Enum
	if err := spec.Types.TypeByName("ipc_counter", &e); err != nil {
		t.Fatal(err)
	}
	for _, v := range e.Values {
		names[v.Value] = v.Name
	}
	seen := map[capfile.LossCause]bool{}
	for _, lc := range lossCauses {
		if lc.cause == capfile.LossUnknown || seen[lc.cause] {
			t.Errorf("counter %d: cause %d", lc.counter, lc.cause)
		}
		seen[lc.cause] = true
		if n := names[uint64(lc.counter)]; !strings.HasPrefix(n, "IPC_LOST_") {
			t.Errorf("counter %d (%s) is not a loss counter", lc.counter, n)
		}
	}
}

// enumValues returns every enumerator of the object's BTF by name.
func enumValues(t *testing.T, spec *ebpf.CollectionSpec) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for typ, err := range spec.Types.All() {
		if err != nil {
			t.Fatal(err)
		}
		if e, ok := typ.(*btf.Enum); ok {
			for _, v := range e.Values {
				out[v.Name] = v.Value
			}
		}
	}
	return out
}

//go:build linux && amd64

package capture

import (
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

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

// missed returns how many times the kernel skipped one of the programs
// because another BPF program was running on that CPU (tracepoints only;
// uprobes are not skipped, and are not asked: one system call each, five
// times a second). Each may have cost a message.
func (t *Tracer) missed() uint64 {
	var n uint64
	if t.coll == nil {
		return 0
	}
	for _, p := range t.coll.Programs {
		if p.Type() == ebpf.Kprobe {
			continue
		}
		if st, err := p.Stats(); err == nil {
			n += st.RecursionMisses
		}
	}
	return n
}

// readCounters sums the counters over the CPUs, in one system call where
// the kernel looks up arrays in batches (Linux 5.6).
func (t *Tracer) readCounters() ([numCounters]uint64, error) {
	var out [numCounters]uint64
	if t.counters == nil {
		return out, os.ErrClosed
	}
	if out, ok := t.readCountersBatch(); ok {
		return out, nil
	}
	return t.readCountersEach()
}

// readCountersBatch is readCounters in one batch lookup; ok is false when
// the kernel or the map refuses it.
func (t *Tracer) readCountersBatch() (out [numCounters]uint64, ok bool) {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return out, false
	}
	keys := make([]uint32, numCounters)
	values := make([]uint64, numCounters*ncpu)
	var cursor ebpf.MapBatchCursor
	n, err := t.counters.BatchLookup(&cursor, keys, values, nil)
	if (err != nil && !errors.Is(err, ebpf.ErrKeyNotExist)) || n != numCounters {
		return out, false
	}
	for i, k := range keys {
		for _, v := range values[i*ncpu : (i+1)*ncpu] {
			out[k] += v
		}
	}
	return out, true
}

// readCountersEach is readCounters with one system call per counter.
func (t *Tracer) readCountersEach() ([numCounters]uint64, error) {
	var out [numCounters]uint64
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

// lossTotals returns the loss counts since Open, kernel counters c first,
// in the order their loss records are queued.
func (t *Tracer) lossTotals(c [numCounters]uint64) []lossTotal {
	totals := make([]lossTotal, 0, len(lossCauses)+2)
	for _, lc := range lossCauses {
		totals = append(totals, lossTotal{lc.cause, c[lc.counter]})
	}
	return append(totals,
		lossTotal{capfile.LossReassembly, t.reassembly.Load()},
		lossTotal{capfile.LossUnknown, t.missed()})
}

// Stats returns the counters since Open.
func (t *Tracer) Stats() Stats {
	s := Stats{
		Messages: t.messages.Load(),
		Bytes:    t.bytes.Load(),
		Lost:     map[capfile.LossCause]uint64{},
	}
	c, err := t.readCounters()
	if err != nil {
		if n := t.reassembly.Load(); n > 0 {
			s.Lost[capfile.LossReassembly] = n
		}
		return s
	}
	s.Lost = lostByCause(t.lossTotals(c))
	s.Truncated = c[ipcIpcCounterIPC_TRUNCATED_LIMIT]
	s.CommitHits = c[ipcIpcCounterIPC_HIT_COMMIT]
	s.OtherRings = c[ipcIpcCounterIPC_SKIP_OTHER_RING]
	s.SocketHits = c[ipcIpcCounterIPC_HIT_SOCK]
	s.LifecycleHits = c[ipcIpcCounterIPC_HIT_LIFECYCLE]
	s.RXHits = c[ipcIpcCounterIPC_HIT_RX]
	s.Filtered = c[ipcIpcCounterIPC_SKIP_FILTER]
	return s
}

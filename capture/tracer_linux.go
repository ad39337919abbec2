//go:build linux && amd64

package capture

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"github.com/cilium/ebpf/rlimit"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Tracer records libqb IPC messages. Read returns them; Close detaches.
// Read must not be called concurrently; Stats and Close may be called from
// any goroutine.
type Tracer struct {
	coll *ebpf.Collection
	ring *eventRing

	mu    sync.Mutex // guards links and libs while the library watcher runs
	links []link.Link
	libs  []Library

	watchStop chan struct{} // closed by Close
	watchDone chan struct{} // closed when the watcher returned
	watchKick chan struct{} // the reader's housekeeping asks the watcher to look

	notices     *ringbuf.Reader // the socket transport's first process, while awaited
	noticesDone chan struct{}   // closed when the goroutine waiting on notices returned
	socketHooks atomic.Bool     // the socket transport's syscall hooks are attached
	noSocket    bool            // Config.NoSocket: they never will be
	atEntry     bool            // Config.ProbeAtEntry

	counters *ebpf.Map
	execs    *execMap // the processes that exec'd, for the library watcher (watchesExecs)

	// Read's state.
	assembler
	queue      []*capfile.Record
	lastPoll   time.Time
	pieces     uint64 // ring buffer reads, to read the clock only now and then
	waited     bool   // Read waited: look at the clock
	draining   bool
	lastDrain  bool
	done       bool
	ctx        context.Context
	stopNotify func() bool

	closeOnce sync.Once
	closeErr  error
}

// The piece header reassembly reads is the programs' header.
var _ = pieceHdr(ipcIpcHdr{})

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

	t := &Tracer{atEntry: cfg.ProbeAtEntry}
	t.wallOff = wallClockOffset()
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
	watchExecs := watchesExecs(cfg)
	if err := configure(spec, cfg, ringSize, watchExecs); err != nil {
		return nil, err
	}
	t.coll, err = ebpf.NewCollection(spec)
	if err != nil {
		return nil, fmt.Errorf("load BPF programs: %w", err)
	}
	t.counters = t.coll.Maps[ipcMapCounters]
	if watchExecs && !cfg.EmptyPrograms {
		t.execs = &execMap{m: t.coll.Maps[ipcMapExecs], counted: t.readCounters}
	}
	if err := fillFilters(t.coll, cfg); err != nil {
		return nil, err
	}
	if err := t.attachProcessHooks(cfg); err != nil {
		return nil, err
	}

	if err := t.attachLibraries(cfg); err != nil {
		return nil, err
	}
	if err := t.startSocketHooks(cfg); err != nil {
		return nil, err
	}

	t.ring, err = openEventRing(t.coll.Maps[ipcMapEvents])
	if err != nil {
		return nil, err
	}
	if w := newRingWait(t.coll.Maps[ipcMapEvents]); w != nil {
		t.waiter = w
	} else {
		t.waiter = newSleepWait()
	}
	t.latency = cfg.ReadLatency()
	t.lastPoll = time.Now()
	if len(cfg.LibQB) == 0 {
		t.watchStop, t.watchDone = make(chan struct{}), make(chan struct{})
		t.watchKick = make(chan struct{}, 1)
		go func() {
			defer close(t.watchDone)
			t.watchLibraries(cfg, t.watchKick, t.watchStop)
		}()
	}
	ok = true
	return t, nil
}

// Libraries returns the libqb files found, probed or not (Err says why not):
// those Open found, then those the watcher found since (see [Config.OnNewLibrary]).
func (t *Tracer) Libraries() []Library {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Library(nil), t.libs...)
}

// Recycle hands back a record Read returned and the caller no longer uses,
// nor anything pointing into its Data: the next messages reuse its memory,
// so a recorder that writes each record out allocates little per message
// (and the garbage collector stays off the CPUs the cluster needs).
func (t *Tracer) Recycle(rec *capfile.Record) {
	t.recycle(rec)
}

// Close closes the ring buffer (a blocked Read returns), detaches every probe
// and frees the BPF objects.
func (t *Tracer) Close() error {
	t.closeOnce.Do(func() {
		if t.watchStop != nil {
			close(t.watchStop)
			<-t.watchDone
		}
		if t.notices != nil {
			t.notices.Close()
			<-t.noticesDone
		}
		var errs []error
		if t.ring != nil {
			errs = append(errs, t.ring.close())
			// A Read waiting returns, and finds the ring closed.
			t.waiter.stop()
			t.waiter.close()
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

//go:build linux && amd64

package capture

import (
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// WatchInterval is how often Open's watcher looks for processes that map a libqb
// file not probed yet (a package upgrade, a copy under LD_LIBRARY_PATH): at
// the reader's housekeeping, while Read is called.
const WatchInterval = counterInterval

// youngScans is how many scans a new process's maps are read: the first may
// catch it between fork and exec, or before the dynamic linker mapped libqb.
const youngScans = 3

// libWatch finds libqb files that processes started after Open map.
type libWatch struct {
	known map[[2]uint64]bool // device and inode of every libqb seen
	ages  map[int]int        // pid -> scans it has been seen in (with execs: the young ones only)

	// With the exec tracepoint (execs set), the processes to look at are
	// those that exec'd, and those still young: a process that forks
	// without exec maps what its parent did. Without it, the watcher walks
	// /proc when a PID was handed out.
	execs execSource

	lastPID int  // the last PID handed out before the previous scan
	walks   int  // walks still owed: processes to read again, PIDs not in /proc yet
	byPID   bool // /proc is of our PID namespace: lastPID tells of new processes
}

// execSource hands out the processes that exec'd since it last did;
// complete is false when some may be missing (its map was full).
type execSource interface {
	drain() (pids []int, complete bool)
}

func newLibWatch(libs []Library, execs execSource) *libWatch {
	w := &libWatch{known: map[[2]uint64]bool{}, ages: map[int]int{}, execs: execs}
	for _, l := range libs {
		if l.Ino != 0 {
			w.known[[2]uint64{l.Dev, l.Ino}] = true
		}
	}
	// The processes running now were searched by Open.
	w.lastPID, _ = lastPID()
	self, _ := os.Readlink("/proc/self")
	w.byPID = self == strconv.Itoa(os.Getpid())
	if execs != nil {
		// Processes that exec'd while Open searched are looked at again.
		return w
	}
	for _, pid := range processIDs() {
		w.ages[pid] = youngScans
	}
	return w
}

// scan returns the libqb files first mapped since the last scan, each with a
// process that maps it (as Library.Name says: "PATH, by pid N (COMM)").
func (w *libWatch) scan() []Library {
	if w.execs == nil {
		return w.walk()
	}
	pids, complete := w.execs.drain()
	if !complete {
		// Some execs went unseen: every process is as young as they are.
		pids = append(pids, processIDs()...)
	}
	return w.scanExecs(pids)
}

// scanExecs reads the maps of the processes that exec'd and of those
// still young.
func (w *libWatch) scanExecs(pids []int) []Library {
	for _, pid := range pids {
		w.ages[pid] = 0
	}
	var found []Library
	for pid, age := range w.ages {
		if age+1 >= youngScans {
			delete(w.ages, pid)
		} else {
			w.ages[pid] = age + 1
		}
		found = w.look(pid, found)
	}
	return found
}

// walk reads the maps of every process not read youngScans times yet,
// when a PID was handed out since the last walk.
func (w *libWatch) walk() []Library {
	// Walking /proc costs a busy node's recorder more than all else it
	// does between messages; when no PID was handed out since the last
	// walk and no process waits for another look, there is nothing new.
	last, ok := lastPID()
	if ok && w.byPID && last == w.lastPID && w.walks == 0 {
		return nil
	}
	changed := last != w.lastPID
	w.lastPID, w.walks = last, 0
	var found []Library
	alive := map[int]bool{}
	for _, pid := range processIDs() {
		alive[pid] = true
		age := w.ages[pid]
		if age >= youngScans {
			continue
		}
		w.ages[pid] = age + 1
		if age+1 < youngScans {
			w.walks++
		}
		found = w.look(pid, found)
	}
	if changed {
		// The kernel hands out a PID a little before the process shows in
		// /proc: one more walk finds a process this one missed.
		w.walks++
	}
	for pid := range w.ages {
		if !alive[pid] {
			delete(w.ages, pid)
		}
	}
	return found
}

// look appends to found the libqb files pid maps that no scan found before.
func (w *libWatch) look(pid int, found []Library) []Library {
	for _, c := range libqbMapped(pid) {
		var st unix.Stat_t
		if err := unix.Stat(c.path, &st); err != nil {
			continue // gone already
		}
		key := [2]uint64{st.Dev, st.Ino}
		if w.known[key] {
			continue
		}
		w.known[key] = true
		found = append(found, Library{Path: c.path, Name: c.name, Dev: st.Dev, Ino: st.Ino, PID: pid, Comm: comm(pid)})
	}
	return found
}

// lastPID returns the PID the kernel handed out last, to a process or a
// thread (in the caller's PID namespace, where every process of the node
// has one), as /proc/loadavg's last field tells.
func lastPID() (int, bool) {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) < 5 {
		return 0, false
	}
	pid, err := strconv.Atoi(f[4])
	return pid, err == nil
}

func comm(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// watchLibraries probes every libqb that a process maps after Open, as soon
// as a scan finds it, and hands it to report (Err set when it cannot be
// probed), each time kick says to look. Messages such a process sent before
// are not recorded.
func (t *Tracer) watchLibraries(cfg Config, kick, stop <-chan struct{}) {
	var execs execSource
	if t.execs != nil {
		execs = t.execs
	}
	w := newLibWatch(t.Libraries(), execs)
	symbols := t.symbols(cfg)
	for {
		select {
		case <-stop:
			return
		case <-kick:
		}
		for _, lib := range w.scan() {
			lib.Version, lib.Err = inspectLibrary(lib.Path, symbols)
			if lib.Err == nil {
				t.mu.Lock()
				lib.Err = t.attachLibrary(lib.Path, cfg.RX)
				t.mu.Unlock()
			}
			t.mu.Lock()
			t.libs = append(t.libs, lib)
			t.mu.Unlock()
			if cfg.OnNewLibrary != nil {
				cfg.OnNewLibrary(lib)
			}
		}
	}
}

// execMap drains the execs map the exec tracepoint fills.
type execMap struct {
	m       *ebpf.Map
	counted func() ([numCounters]uint64, error) // the tracer's counters
	execs   uint64                              // IPC_EXECS at the last drain
	unseen  uint64                              // IPC_EXECS_UNSEEN at the last drain
	keys    []uint32
	values  []uint8
}

// watchesExecs reports whether the library watcher learns of new processes
// from the exec tracepoint: its PIDs are those of the initial PID namespace,
// so the watcher must see /proc from there. (With Config.EmptyPrograms the
// hook is attached all the same, and the watcher walks /proc.)
func watchesExecs(cfg Config) bool {
	if len(cfg.LibQB) > 0 {
		return false
	}
	ns, err := os.Readlink("/proc/self/ns/pid")
	self, _ := os.Readlink("/proc/self")
	return err == nil && ns == initPIDNamespace && self == strconv.Itoa(os.Getpid())
}

// initPIDNamespace is the initial PID namespace as /proc names it (the
// kernel's PROC_PID_INIT_INO).
const initPIDNamespace = "pid:[4026531836]"

func (e *execMap) drain() (pids []int, complete bool) {
	c, err := e.counted()
	if err != nil {
		return nil, false
	}
	execs, unseen := c[ipcIpcCounterIPC_EXECS], c[ipcIpcCounterIPC_EXECS_UNSEEN]
	if execs == e.execs && unseen == e.unseen {
		return nil, true // nothing exec'd: the map is not walked
	}
	complete = unseen == e.unseen
	e.execs, e.unseen = execs, unseen
	if e.keys == nil {
		e.keys, e.values = make([]uint32, 256), make([]uint8, 256)
	}
	var cursor ebpf.MapBatchCursor
	for {
		n, err := e.m.BatchLookupAndDelete(&cursor, e.keys, e.values, nil)
		for _, k := range e.keys[:n] {
			pids = append(pids, int(k))
		}
		switch {
		case errors.Is(err, ebpf.ErrKeyNotExist):
			return pids, complete
		case errors.Is(err, ebpf.ErrNotSupported):
			// Before Linux 5.6: one key at a time.
			return e.drainEach(pids), complete
		case err != nil:
			return pids, false
		}
	}
}

// drainEach is drain's loop for kernels without batch operations on hash maps.
func (e *execMap) drainEach(pids []int) []int {
	var key uint32
	var value uint8
	var keys []uint32
	for it := e.m.Iterate(); it.Next(&key, &value); {
		keys = append(keys, key)
	}
	for _, k := range keys {
		if e.m.Delete(k) == nil {
			pids = append(pids, int(k))
		}
	}
	return pids
}

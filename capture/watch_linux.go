//go:build linux && amd64

package capture

import (
	"os"
	"strconv"
	"strings"

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
	known   map[[2]uint64]bool // device and inode of every libqb seen
	ages    map[int]int        // pid -> scans it has been seen in
	lastPID int                // the last PID handed out before the previous scan
	young   int                // walks still owed: processes to read again, PIDs not in /proc yet
	byPID   bool               // /proc is of our PID namespace: lastPID tells of new processes
}

func newLibWatch(libs []Library) *libWatch {
	w := &libWatch{known: map[[2]uint64]bool{}, ages: map[int]int{}}
	for _, l := range libs {
		if l.Ino != 0 {
			w.known[[2]uint64{l.Dev, l.Ino}] = true
		}
	}
	// The processes running now were searched by Open.
	w.lastPID, _ = lastPID()
	self, _ := os.Readlink("/proc/self")
	w.byPID = self == strconv.Itoa(os.Getpid())
	for _, pid := range processIDs() {
		w.ages[pid] = youngScans
	}
	return w
}

// scan returns the libqb files first mapped since the last scan, each with a
// process that maps it (as Library.Name says: "PATH, by pid N (COMM)").
func (w *libWatch) scan() []Library {
	// Walking /proc costs a busy node's recorder more than all else it
	// does between messages; when no PID was handed out since the last
	// walk and no process waits for another look, there is nothing new.
	last, ok := lastPID()
	if ok && w.byPID && last == w.lastPID && w.young == 0 {
		return nil
	}
	changed := last != w.lastPID
	w.lastPID, w.young = last, 0
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
			w.young++
		}
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
	}
	if changed {
		// The kernel hands out a PID a little before the process shows in
		// /proc: one more walk finds a process this one missed.
		w.young++
	}
	for pid := range w.ages {
		if !alive[pid] {
			delete(w.ages, pid)
		}
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
	w := newLibWatch(t.Libraries())
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

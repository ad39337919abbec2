//go:build linux && amd64

package capture

import (
	"bytes"
	"os"
	"strconv"
)

// processIDs lists the pids under /proc.
func processIDs() []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// processesNamed returns the running processes whose command name is one
// of comms (compared as the kernel keeps it: 15 bytes at most), each keyed
// as ipcProcKey wants: its pid namespace and its pid there. Processes that
// vanish while it looks are left out.
func processesNamed(comms []string) []ipcProcKey {
	if len(comms) == 0 {
		return nil
	}
	want := map[string]bool{}
	for _, c := range comms {
		want[c[:min(len(c), 15)]] = true
	}
	var out []ipcProcKey
	for _, pid := range processIDs() {
		dir := "/proc/" + strconv.Itoa(pid)
		comm, err := os.ReadFile(dir + "/comm")
		if err != nil || !want[string(bytes.TrimSuffix(comm, []byte("\n")))] {
			continue
		}
		ns, err := PIDNamespaceOf(pid)
		if err != nil {
			continue
		}
		if nspid, ok := innermostPID(dir + "/status"); ok {
			out = append(out, ipcProcKey{Pidns: ns, Pid: nspid})
		}
	}
	return out
}

// innermostPID reads the last field of the NSpid line of a /proc/PID/status
// file: the process's pid in its own pid namespace.
func innermostPID(status string) (uint32, bool) {
	data, err := os.ReadFile(status)
	if err != nil {
		return 0, false
	}
	for line := range bytes.Lines(data) {
		if rest, ok := bytes.CutPrefix(line, []byte("NSpid:")); ok {
			f := bytes.Fields(rest)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseUint(string(f[len(f)-1]), 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}

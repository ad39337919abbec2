//go:build linux && amd64

package capture

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// socketOwners returns the processes that have a libqb datagram socket
// open: a Unix datagram socket bound to an abstract name under /dev/shm/qb-
// (the socket transport). /proc/PID/net/unix lists the sockets of the
// process's network namespace, so each namespace is read once.
func socketOwners() []uint32 {
	pids := processIDs()
	inodes := map[string]bool{} // "socket:[N]" of libqb datagram sockets
	seenNS := map[string]bool{}
	for _, pid := range pids {
		ns, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/ns/net")
		if err != nil || seenNS[ns] {
			continue
		}
		seenNS[ns] = true
		data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/net/unix")
		if err != nil {
			continue
		}
		for _, ino := range libqbDatagramInodes(data) {
			inodes["socket:["+ino+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return nil
	}

	var owners []uint32
	for _, pid := range pids {
		dir := "/proc/" + strconv.Itoa(pid) + "/fd"
		fds, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if target, err := os.Readlink(filepath.Join(dir, fd.Name())); err == nil && inodes[target] {
				owners = append(owners, uint32(pid))
				break
			}
		}
	}
	return owners
}

// libqbDatagramInodes returns the inode numbers of the datagram sockets
// named "@/dev/shm/qb-..." in the text of a /proc/net/unix file.
func libqbDatagramInodes(data []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// Num RefCount Protocol Flags Type St Inode Path
		f := strings.Fields(sc.Text())
		if len(f) < 8 || f[4] != "0002" || !strings.HasPrefix(f[7], "@/dev/shm/qb-") {
			continue
		}
		out = append(out, f[6])
	}
	return out
}

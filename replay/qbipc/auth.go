package qbipc

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Pacemaker's cluster user and group (CRM_DAEMON_USER, CRM_DAEMON_GROUP).
const (
	clusterUser  = "hacluster"
	clusterGroup = "haclient"
)

// checkPeer is crm_ipc_is_authentic_process: a server running as root is always
// accepted; otherwise its uid must be an allowed uid or its gid an allowed gid.
func checkPeer(opts *Options, pid int32, uid, gid uint32) error {
	if opts.SkipPeerCheck || uid == 0 {
		return nil
	}
	uids, gids := opts.ServerUIDs, opts.ServerGIDs
	if uids == nil && gids == nil {
		uids, gids = clusterIDs(opts.Root)
	}
	if slices.Contains(uids, uid) || slices.Contains(gids, gid) {
		return nil
	}
	return fmt.Errorf("%w: process %d has uid %d and gid %d, want root, uid in %v or gid in %v",
		ErrUnauthorized, pid, uid, gid, uids, gids)
}

// clusterIDs looks the cluster user and group up in root's /etc/passwd and /etc/group:
// a daemon in another mount namespace may have numbers of its own, and the numbers in
// its credentials are what count. Like Pacemaker's pcmk_daemon_user it also accepts the
// user's primary group. Lookup failures leave only root allowed.
func clusterIDs(root string) (uids, gids []uint32) {
	if f, ok := lookup(filepath.Join(root, "/etc/passwd"), clusterUser); ok && len(f) > 3 {
		if id, err := strconv.ParseUint(f[2], 10, 32); err == nil {
			uids = append(uids, uint32(id))
		}
		if id, err := strconv.ParseUint(f[3], 10, 32); err == nil {
			gids = append(gids, uint32(id))
		}
	}
	if f, ok := lookup(filepath.Join(root, "/etc/group"), clusterGroup); ok && len(f) > 2 {
		if id, err := strconv.ParseUint(f[2], 10, 32); err == nil && !slices.Contains(gids, uint32(id)) {
			gids = append(gids, uint32(id))
		}
	}
	return uids, gids
}

// lookup returns the colon-separated fields of the line of a passwd-style file whose
// first field is name.
func lookup(file, name string) ([]string, bool) {
	f, err := os.Open(file)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Split(s.Text(), ":")
		if fields[0] == name {
			return fields, true
		}
	}
	return nil, false
}

package capture

import "strings"

// connPIDs returns the server and client pids of a connection key,
// "qb-<srvpid>-<clipid>-<fd>-<rand6>", as the server's pid namespace sees them.
func connPIDs(conn string) (server, client uint32) {
	rest, ok := strings.CutPrefix(conn, "qb-")
	if !ok {
		return 0, 0
	}
	var pids [2]uint64
	for i := range pids {
		n := 0
		for n < len(rest) && rest[n] >= '0' && rest[n] <= '9' && n < 10 {
			pids[i] = pids[i]*10 + uint64(rest[n]-'0')
			n++
		}
		if n == 0 || n >= len(rest) || rest[n] != '-' || pids[i] > 1<<32-1 {
			return 0, 0
		}
		rest = rest[n+1:]
	}
	return uint32(pids[0]), uint32(pids[1])
}

package export

import (
	"strings"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// daemons are the full names of Pacemaker's daemons (current and older)
// and corosync: the kernel cuts a command name to 15 bytes.
var daemons = []string{
	"pacemakerd", "pacemaker-based", "pacemaker-fenced", "pacemaker-execd",
	"pacemaker-remoted", "pacemaker-attrd", "pacemaker-schedulerd", "pacemaker-controld",
	"cib", "stonithd", "lrmd", "attrd", "pengine", "crmd", "corosync",
}

// fullName returns the daemon whose name comm is, or starts with when comm
// was cut to 15 bytes; else comm, and whether it is a daemon.
func fullName(comm string) (string, bool) {
	for _, n := range daemons {
		if comm == n || (len(comm) == 15 && strings.HasPrefix(n, comm)) {
			return n, true
		}
	}
	return comm, false
}

// serverName returns the daemon behind a libqb service, for a server
// never seen writing (an unanswered request).
func serverName(service string) string {
	switch service {
	case "pacemakerd":
		return "pacemakerd"
	case "cib_ro", "cib_rw", "cib_shm":
		return "pacemaker-based"
	case "stonith-ng":
		return "pacemaker-fenced"
	case "lrmd":
		return "pacemaker-execd"
	case "attrd":
		return "pacemaker-attrd"
	case "pengine":
		return "pacemaker-schedulerd"
	case "crmd":
		return "pacemaker-controld"
	case "cpg", "cmap", "quorum", "cfg", "votequorum":
		return "corosync"
	}
	return service
}

// nodeOf returns the node m was recorded on, or def when m does not say
// (a capture of one node: its section header's host name).
//
// A merged capture, and a capture that names its node, says it per message.
func nodeOf(m *decode.Message, def string) string {
	if m.Node != "" {
		return m.Node
	}
	return def
}

// clusterMsgOf returns the identity shared by every copy of one
// cluster-wide message (a CPG message's send and its deliveries on every
// node), or "" when m is none or the capture does not say.
func clusterMsgOf(m *decode.Message) string {
	return m.ClusterMsg
}

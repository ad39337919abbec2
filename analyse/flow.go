package analyse

import (
	"strconv"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// ArrowKind says how an [Arrow] is drawn.
type ArrowKind uint8

const (
	ArrowRequest ArrowKind = iota + 1 // client to server: a solid line
	ArrowReply                        // a reply or ack to a request: a dashed line
	ArrowEvent                        // an event or notification from server to client: a dotted line, open head
	ArrowLoss                         // the recorder lost messages: a marker across all lifelines
	ArrowInvalid                      // a record the capture could not give: a marker across all lifelines
)

// Arrow is one row of a flow diagram: a message from one lifeline to
// another, or a marker across all of them.
type Arrow struct {
	Kind     ArrowKind
	From, To int    // indexes into Flow.Lifelines; -1 for markers
	Label    string // the operation; for replies with the latency; for markers what happened
	Error    bool   // a negative return code, a nack, or a message that could not be decoded
	Pair     int    // index in Flow.Arrows of the request this answers, or of its first answer; -1 if not shown
	Msg      decode.Message
}

// Lifeline is one process in a flow diagram.
type Lifeline struct {
	Node    string // the node, in a capture of several nodes; else ""
	PID     uint32 // the pid the connection names, the same at both ends of a conversation
	HostPID uint32 // the pid the recorder saw when it differs (pid namespaces), else 0
	Comm    string // command name; a daemon's full name when the recorder cut it to 15 bytes
	rank    int
	first   int // index of the first arrow that touches it
}

// Name returns comm[pid], or ?[pid] when the process never wrote a message; node/comm[pid]
// in a capture of several nodes.
func (l Lifeline) Name() string {
	c := l.Comm
	if c == "" {
		c = "?"
	}
	if l.Node != "" {
		c = l.Node + "/" + c
	}
	return c + "[" + strconv.FormatUint(uint64(l.PID), 10) + "]"
}

// Flow is a sequence diagram of processes and the messages between them,
// ready to be written as SVG, text, Mermaid or PlantUML.
type Flow struct {
	Lifelines []Lifeline // daemons first, in a fixed order, then corosync, then clients
	Arrows    []Arrow    // in capture order
	Start     time.Time  // the diagram's zero: the time of the first arrow
	Selected  int        // messages and markers selected, including those beyond the cap
	Notes     []string   // shown above the diagram, such as why it was cut
}

// Cut reports whether the selection had more messages than the diagram shows.
func (f *Flow) Cut() bool { return f.Selected > len(f.Arrows) }

// daemons are Pacemaker's daemons in the order their lifelines appear, then
// corosync; every name of a daemon (current and older) maps to the first.
var flowDaemons = [][]string{
	{"pacemakerd"},
	{"pacemaker-based", "cib"},
	{"pacemaker-fenced", "stonithd"},
	{"pacemaker-execd", "pacemaker-remoted", "lrmd"},
	{"pacemaker-attrd", "attrd"},
	{"pacemaker-schedulerd", "pengine"},
	{"pacemaker-controld", "crmd"},
	{"corosync"},
}

// flowClientRank is the rank of processes that are not daemons.
var flowClientRank = len(flowDaemons)

// flowDaemonOf returns the rank and full name of a daemon by its command
// name, which the kernel cuts to 15 bytes, or flowClientRank and comm.
func flowDaemonOf(comm string) (int, string) {
	for rank, names := range flowDaemons {
		for _, n := range names {
			if comm == n || (len(comm) == 15 && strings.HasPrefix(n, comm)) {
				return rank, n
			}
		}
	}
	return flowClientRank, comm
}

// flowServerOf returns the rank and name of the daemon behind a libqb
// service, for processes seen only as the receiver of messages.
func flowServerOf(service string) (int, string) {
	switch service {
	case "pacemakerd":
		return 0, "pacemakerd"
	case "cib_ro", "cib_rw", "cib_shm":
		return 1, "pacemaker-based"
	case "stonith-ng":
		return 2, "pacemaker-fenced"
	case "lrmd":
		return 3, "pacemaker-execd"
	case "attrd":
		return 4, "pacemaker-attrd"
	case "pengine":
		return 5, "pacemaker-schedulerd"
	case "crmd":
		return 6, "pacemaker-controld"
	case "cpg", "cmap", "quorum", "cfg", "votequorum":
		return 7, "corosync"
	}
	return flowClientRank, ""
}

// flowEnds returns the connection's pids of a message's writer and reader.
func flowEnds(m *decode.Message) (from, to uint32) {
	if m.Channel == capfile.ChannelRequest {
		return m.ClientPID, m.ServerPID
	}
	return m.ServerPID, m.ClientPID
}

// flowIsError reports whether a message says something failed. Pacemaker's
// return codes are negative errno values; positive ones are not failures
// (execd's call ids, an ack's 112, an agent's exit status).
func flowIsError(m *decode.Message) bool {
	if m.Err != nil || m.Root == "nack" {
		return true
	}
	if rc, err := strconv.Atoi(m.RC); err == nil && rc < 0 {
		return true
	}
	return false
}

// flowLabel returns the text an arrow carries.
func flowLabel(m *decode.Message) string {
	op := m.Op
	if m.ReplyTo != nil && m.ReplyTo.Op != "" {
		op = m.ReplyTo.Op // the request's: execd answers every request with lrmd_reply
	}
	if op == "" {
		op = m.Service + " id=" + strconv.Itoa(int(m.QBID))
	}
	if m.Role == decode.RoleAck {
		op = "ack " + op
		if m.Root == "nack" {
			op = "nack " + op[4:]
		}
	}
	if m.ProxiedFor != "" {
		op += " via " + m.ProxiedFor // the controller relaying a remote node's tool
	}
	if m.ReplyTo != nil {
		op += " " + flowLatency(m.ReplyTo.Latency)
	}
	if m.Err != nil {
		op += " (undecodable)"
	} else if flowIsError(m) && m.RC != "" {
		op += " rc=" + m.RC
	}
	return op
}

// flowLatency formats d with three significant digits: 87.3µs, 412µs, 1.49ms.
func flowLatency(d time.Duration) string {
	unit, div := "ns", 1.0
	switch {
	case d >= time.Second:
		unit, div = "s", 1e9
	case d >= time.Millisecond:
		unit, div = "ms", 1e6
	case d >= time.Microsecond:
		unit, div = "µs", 1e3
	}
	v := float64(d) / div
	prec := 0
	switch {
	case v < 10:
		prec = 2
	case v < 100:
		prec = 1
	}
	if unit == "ns" {
		prec = 0
	}
	return strconv.FormatFloat(v, 'f', prec, 64) + unit
}

// flowMarker returns the label of a loss or invalid record.
func flowMarker(m *decode.Message) string {
	if m.Kind == decode.KindLoss {
		return strconv.FormatUint(uint64(m.Lost), 10) + " messages lost by the recorder (" + m.Cause.String() + ")"
	}
	s := "damaged record"
	if m.Err != nil {
		s += ": " + m.Err.Error()
	}
	return s
}

package analyse

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// DefaultFollowWindow is how long a process that received part of a followed change
// stays part of it: what it writes within that time counts as its reaction.
const DefaultFollowWindow = 2 * time.Second

// Follower selects, from a stream of messages in time order, what one request caused
// across the cluster: the request itself, its replies, the CPG multicasts the daemons sent
// on its account and their deliveries on every node (by cluster_msg), and the messages
// the processes that received any of these wrote within Window of receiving it (the
// controller's queries and its scheduler request, the notifications, execd operations),
// with their replies and the messages that share their reference.
//
// A process is identified by node and the pid its connections name. corosync is never
// followed as a process: its deliveries of other multicasts are not part of the change.
type Follower struct {
	Seq    uint64        // the request to follow
	Window time.Duration // 0 means DefaultFollowWindow

	found    bool
	last     time.Time                // the latest activation: nothing later can be selected
	active   map[followProc]time.Time // process -> until when what it writes counts
	requests map[uint64]bool          // Seq of selected requests, whose answers are selected
	msgs     map[string]bool          // cluster_msg of selected multicasts
	refs     map[string]bool          // reference of selected messages
	kept     int
}

type followProc struct {
	node string
	pid  uint32
}

// followMax bounds the follower's tables; a change that reaches further is cut.
const followMax = 1 << 16

// Found reports whether the followed request was seen.
func (f *Follower) Found() bool { return f.found }

// Kept returns the number of messages selected so far.
func (f *Follower) Kept() int { return f.kept }

// Add reports whether m is part of the followed change, and whether a later message can
// still be (false: reading may stop).
func (f *Follower) Add(m *decode.Message) (keep, more bool) {
	if f.Window <= 0 {
		f.Window = DefaultFollowWindow
	}
	if !f.found {
		if m.Seq != f.Seq || m.Kind != decode.KindMessage {
			return false, true
		}
		f.found = true
		f.active = map[followProc]time.Time{}
		f.requests, f.msgs, f.refs = map[uint64]bool{}, map[string]bool{}, map[string]bool{}
		f.take(m)
		return true, true
	}
	if m.Kind != decode.KindMessage || m.RX {
		return false, f.more(m.Time)
	}
	if f.selects(m) {
		f.take(m)
		return true, true
	}
	return false, f.more(m.Time)
}

// more reports whether a message at t or later may still be selected.
func (f *Follower) more(t time.Time) bool {
	return t.IsZero() || !t.After(f.last)
}

// selects reports whether m belongs to the change.
func (f *Follower) selects(m *decode.Message) bool {
	switch {
	case m.ReplyTo != nil && f.requests[m.ReplyTo.Seq]:
		return true
	case m.ClusterMsg != "" && f.msgs[m.ClusterMsg]:
		return true
	case m.Reference != "" && f.refs[m.Reference]:
		return true
	}
	writer, _ := ends(m)
	until, ok := f.active[writer]
	return ok && !m.Time.After(until)
}

// take selects m: its answers, copies and reference will be, and its reader reacts.
func (f *Follower) take(m *decode.Message) {
	f.kept++
	if len(f.requests) >= followMax || len(f.active) >= followMax {
		return // cut: what was selected stays, nothing new spreads
	}
	if m.Channel == capfile.ChannelRequest {
		f.requests[m.Seq] = true
	}
	if m.ClusterMsg != "" {
		f.msgs[m.ClusterMsg] = true
	}
	if m.Reference != "" {
		f.refs[m.Reference] = true
	}
	_, reader := ends(m)
	if pcmk.ServiceFamily(m.Service) == pcmk.FamilyCorosync && m.Channel == capfile.ChannelRequest {
		return // corosync itself: its other deliveries are not this change's
	}
	if reader.pid == 0 {
		return
	}
	until := m.Time.Add(f.Window)
	if until.After(f.active[reader]) {
		f.active[reader] = until
	}
	if until.After(f.last) {
		f.last = until
	}
}

// ends returns the process that wrote m and the one it was for.
func ends(m *decode.Message) (writer, reader followProc) {
	from, to := flowEnds(m)
	return followProc{m.Node, from}, followProc{m.Node, to}
}

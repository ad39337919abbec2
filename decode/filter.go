package decode

import (
	"slices"
	"strconv"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Filter selects messages. Every non-empty field must match; within a
// field any value may match. The zero Filter selects everything.
type Filter struct {
	Services []string          // Message.Service
	Ops      []string          // Message.Op, or the Op of the request a reply answers
	PIDs     []uint32          // Message.PID, ClientPID or ServerPID
	Comms    []string          // Message.Comm, or the command of the client a reply goes to
	Channels []capfile.Channel // Message.Channel
	Since    time.Time         // if set, messages at or after Since
	Until    time.Time         // if set, messages before Until

	clients map[string]bool // "conn/client pid" of connections whose client matched Comms
}

// maxFilterClients bounds the memory of a Comms filter.
const maxFilterClients = 1 << 16

// Match reports whether f selects m. Loss records and records the source
// could not read are selected by the time window only (and always when
// they carry no time), so that a filtered
// view still shows where data is missing; connect and disconnect records
// by service and pid as well.
func (f *Filter) Match(m *Message) bool {
	if !m.Time.IsZero() {
		if !f.Since.IsZero() && m.Time.Before(f.Since) {
			return false
		}
		if !f.Until.IsZero() && !m.Time.Before(f.Until) {
			return false
		}
	}
	if m.Kind == KindLoss || m.Kind == KindInvalid {
		return true
	}
	if len(f.Services) > 0 && !slices.Contains(f.Services, m.Service) {
		return false
	}
	if len(f.PIDs) > 0 && !slices.Contains(f.PIDs, m.PID) &&
		!slices.Contains(f.PIDs, m.ClientPID) && !slices.Contains(f.PIDs, m.ServerPID) {
		return false
	}
	if len(f.Comms) > 0 && !f.matchComm(m) {
		return false
	}
	if m.Kind != KindMessage {
		return true
	}
	if len(f.Channels) > 0 && !slices.Contains(f.Channels, m.Channel) {
		return false
	}
	if len(f.Ops) > 0 && !slices.Contains(f.Ops, m.Op) &&
		(m.ReplyTo == nil || !slices.Contains(f.Ops, m.ReplyTo.Op)) {
		return false
	}
	return true
}

// matchComm selects messages written by a process named in Comms and, so that a tool's whole
// conversation shows, the daemon's messages back to such a process: clients are learned
// from the requests they write.
func (f *Filter) matchComm(m *Message) bool {
	key := m.Conn + "/" + strconv.FormatUint(uint64(m.ClientPID), 10)
	if slices.Contains(f.Comms, m.Comm) {
		if m.Channel == capfile.ChannelRequest && m.Conn != "" {
			if f.clients == nil {
				f.clients = make(map[string]bool)
			}
			if len(f.clients) >= maxFilterClients {
				clear(f.clients)
			}
			f.clients[key] = true
		}
		return true
	}
	return m.Conn != "" && f.clients[key]
}

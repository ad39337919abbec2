package decode

import (
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Filter selects messages. Every non-empty field must match; within a
// field any value may match. The zero Filter selects everything.
type Filter struct {
	Services []string          // Message.Service
	Ops      []string          // Message.Op, or the Op of the request a reply answers
	PIDs     []uint32          // Message.PID, ClientPID or ServerPID
	Channels []capfile.Channel // Message.Channel
	Since    time.Time         // if set, messages at or after Since
	Until    time.Time         // if set, messages before Until
}

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

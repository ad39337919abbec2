package analyse

import (
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Connection is one row of the connections table: one libqb connection
// and the events its server sent on it.
type Connection struct {
	Conn      string
	Service   string
	ClientPID uint32
	ServerPID uint32
	Comm      string // the client's command name, when it wrote a request

	Events uint64 // events the server sent

	// With the receive side recorded (record --rx): events the client
	// read, the largest number sent but not yet read, when that was, and
	// when the backlog first reached the IPC limit (zero if never). Reads of
	// events sent before the capture began do not count: the backlog never
	// goes below zero.
	RX         bool
	Read       uint64
	MaxBacklog uint64
	MaxAt      time.Time
	OverLimit  time.Time
}

type connStats struct {
	Connection
	backlog int64
}

func (a *Aggregator) conn(m *decode.Message) *connStats {
	c := a.conns[m.Conn]
	if c == nil {
		c = &connStats{Connection: Connection{Conn: m.Conn, Service: m.Service, ClientPID: m.ClientPID, ServerPID: m.ServerPID}}
		a.conns[m.Conn] = c
	}
	return c
}

// addSent counts an event the server sent, and the request a client wrote (for its name).
func (a *Aggregator) addSent(m *decode.Message) {
	if m.Conn == "" {
		return
	}
	switch m.Channel {
	case capfile.ChannelRequest:
		a.conn(m).Comm = m.Comm
	case capfile.ChannelEvent:
		c := a.conn(m)
		c.Events++
		c.backlog++
		c.mark(m.Time, a.cfg.IPCLimit)
	}
}

// addReceived counts an event the client read.
func (a *Aggregator) addReceived(m *decode.Message) {
	if m.Conn == "" || m.Channel != capfile.ChannelEvent {
		return
	}
	c := a.conn(m)
	c.RX = true
	c.Read++
	if c.backlog > 0 {
		c.backlog--
	}
}

func (c *connStats) mark(t time.Time, limit int) {
	if c.backlog > int64(c.MaxBacklog) {
		c.MaxBacklog = uint64(c.backlog)
		c.MaxAt = t
	}
	if c.backlog >= int64(limit) && c.OverLimit.IsZero() {
		c.OverLimit = t
	}
}

// Connections returns the connections table, by service and connection.
// The backlog fields are meaningful only on rows with RX set.
func (a *Aggregator) Connections() []Connection {
	rows := make([]Connection, 0, len(a.conns))
	for _, c := range a.conns {
		r := c.Connection
		if !r.RX {
			r.MaxBacklog, r.MaxAt, r.OverLimit = 0, time.Time{}, time.Time{}
		}
		rows = append(rows, r)
	}
	slices.SortFunc(rows, func(x, y Connection) int {
		return cmp.Or(cmp.Compare(x.Service, y.Service), cmp.Compare(x.Conn, y.Conn))
	})
	return rows
}

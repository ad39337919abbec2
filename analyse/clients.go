package analyse

import (
	"cmp"
	"slices"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Client is one row of the clients table: one client process's
// conversation with one service.
type Client struct {
	Node    string // the node, in a capture of several nodes (see Aggregator.Nodes)
	PID     uint32 // the client's pid
	Comm    string // the client's command name, from the requests it wrote; "" if it wrote none
	Service string

	Requests uint64 // messages the client wrote
	Replies  uint64 // responses, and events that answer a request
	Events   uint64 // other events (notifications, ...)
	BytesOut uint64 // Size of the requests
	BytesIn  uint64 // Size of the replies and events

	First, Last time.Time // the conversation's first and last message
}

// Rate returns the conversation's messages per second between its first
// and last message, or 0 when they have the same time.
func (c *Client) Rate() float64 {
	d := c.Last.Sub(c.First)
	if d <= 0 {
		return 0
	}
	return float64(c.Requests+c.Replies+c.Events) / d.Seconds()
}

type clientKey struct {
	node    string
	pid     uint32
	service string
}

func (a *Aggregator) addClient(m *decode.Message) {
	k := clientKey{m.Node, m.ClientPID, m.Service}
	c := a.clients[k]
	if c == nil {
		c = &Client{Node: m.Node, PID: m.ClientPID, Service: m.Service, First: m.Time}
		a.clients[k] = c
	}
	if m.Time.After(c.Last) {
		c.Last = m.Time
	}
	switch {
	case m.Channel == capfile.ChannelRequest:
		c.Comm = m.Comm
		c.Requests++
		c.BytesOut += uint64(m.Size)
		return
	case m.Channel == capfile.ChannelResponse || m.ReplyTo != nil:
		c.Replies++
	default:
		c.Events++
	}
	c.BytesIn += uint64(m.Size)
}

// Clients returns the clients table, by pid and service.
func (a *Aggregator) Clients() []Client {
	rows := make([]Client, 0, len(a.clients))
	for _, c := range a.clients {
		rows = append(rows, *c)
	}
	slices.SortFunc(rows, func(x, y Client) int {
		return cmp.Or(cmp.Compare(x.Node, y.Node), cmp.Compare(x.PID, y.PID), cmp.Compare(x.Service, y.Service))
	})
	return rows
}

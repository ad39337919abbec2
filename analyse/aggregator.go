package analyse

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Config sets the limits and resolutions of an [Aggregator]. The zero
// value of a field means its default, given in the Default constants.
type Config struct {
	// Interval is the width of one row of the rate table.
	Interval time.Duration

	// MaxIntervals caps the rate table; past it, neighbouring intervals
	// are merged and Interval doubles.
	MaxIntervals int

	// MaxInFlight caps the requests tracked while they wait for a reply,
	// and PendingTimeout how long (in capture time) one is waited for;
	// decode gives up on a request after the same time by default.
	MaxInFlight    int
	PendingTimeout time.Duration

	// IPCLimit is the event backlog the connections table marks: the
	// number of unread events at which Pacemaker evicts a client
	// (cluster-ipc-limit).
	IPCLimit int

	// Largest is how many of the largest messages the sizes table keeps.
	Largest int

	// FanoutChanges is how many CIB changes the fanout table keeps (the
	// ones with the most notification bytes); the total row counts all.
	FanoutChanges int
}

// The defaults of [Config]'s fields, those of `pcmk-trace stats`; the
// pending timeout is decode's, [decode.DefaultPendingTimeout].
const (
	DefaultInterval      = time.Second
	DefaultMaxIntervals  = 100000
	DefaultMaxInFlight   = 65536
	DefaultIPCLimit      = 500 // cluster-ipc-limit's default
	DefaultLargest       = 5
	DefaultFanoutChanges = 50
)

// BufferSize is Pacemaker's default PCMK_ipc_buffer: larger messages are
// compressed or split. The sizes table counts the messages above it.
const BufferSize = 128 << 10

// Aggregator accumulates the tables over a stream of decoded messages.
// It is not safe for concurrent use.
type Aggregator struct {
	cfg      Config
	first    time.Time
	last     time.Time
	messages uint64
	bytes    uint64

	ops      map[opKey]*opStats
	pending  map[uint64]*pendingReq
	spare    []*pendingReq // released, for reuse
	waiting  seqQueue      // requests that expect a reply, oldest first
	optional seqQueue      // requests a reply may or may not answer (corosync's)
	due      time.Time     // no request is given up before it (see expire); valid when dueSet
	dueSet   bool
	inFlight map[string]int // per service: requests that expect a reply and wait for it
	dropped  uint64         // requests that expected a reply and did not fit MaxInFlight

	clients map[clientKey]*Client
	conns   map[string]*connStats
	rate    rateTable
	sizes   map[string]*Size
	largest []Largest
	fanout  fanoutState
	loss    map[string]*Loss
	nodes   []string // the nodes messages came from, in order of appearance
	// forTop makes a Top's Aggregator: the ops keep the latencies of the
	// current interval apart, and the tables top does not show (rate,
	// sizes, fanout) are not kept.
	forTop bool
}

// New returns an empty Aggregator.
func New(cfg Config) *Aggregator {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.MaxIntervals <= 1 {
		cfg.MaxIntervals = DefaultMaxIntervals
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.PendingTimeout <= 0 {
		cfg.PendingTimeout = decode.DefaultPendingTimeout
	}
	if cfg.IPCLimit <= 0 {
		cfg.IPCLimit = DefaultIPCLimit
	}
	if cfg.Largest <= 0 {
		cfg.Largest = DefaultLargest
	}
	if cfg.FanoutChanges <= 0 {
		cfg.FanoutChanges = DefaultFanoutChanges
	}
	a := &Aggregator{
		cfg:      cfg,
		ops:      make(map[opKey]*opStats),
		pending:  make(map[uint64]*pendingReq),
		inFlight: make(map[string]int),
		clients:  make(map[clientKey]*Client),
		conns:    make(map[string]*connStats),
		sizes:    make(map[string]*Size),
		loss:     make(map[string]*Loss),
	}
	a.rate.width = cfg.Interval
	a.rate.max = cfg.MaxIntervals
	a.fanout.keep = cfg.FanoutChanges
	return a
}

// Add accounts for one message. Messages seen on the receive side (RX)
// only feed the connections table's backlog: every other table counts
// what was sent, once.
func (a *Aggregator) Add(m *decode.Message) {
	switch m.Kind {
	case decode.KindLoss:
		a.addLoss(m.Cause.String(), uint64(m.Lost))
		return
	case decode.KindInvalid:
		a.addLoss("invalid", 0)
		return
	case decode.KindConnect:
		a.conn(m)
		return
	case decode.KindMessage:
	default:
		return
	}
	a.addNode(m.Node)
	if m.Err != nil {
		a.addLoss("undecodable", 1)
	}
	if m.Truncated && !a.forTop { // top's probes copy only the start of large messages
		a.addLoss("truncated", 1)
	}
	if m.RX {
		a.addReceived(m)
		return
	}
	if !m.Time.IsZero() {
		if a.first.IsZero() {
			a.first = m.Time
		}
		if m.Time.After(a.last) {
			a.last = m.Time
		}
		a.expire(m.Time)
	}
	a.messages++
	a.bytes += uint64(m.Size)
	a.addOp(m)
	a.addClient(m)
	a.addSent(m)
	if a.forTop {
		return
	}
	a.addRate(m)
	a.addSize(m)
	a.addFanout(m)
}

// Span returns the times of the first and last message sent.
func (a *Aggregator) Span() (first, last time.Time) { return a.first, a.last }

// Messages returns how many sent messages were added, and their bytes.
func (a *Aggregator) Messages() (n, bytes uint64) { return a.messages, a.bytes }

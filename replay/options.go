package replay

import (
	"context"
	"slices"
	"sort"
	"time"

	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// Options configure [Run] and [Plan]. The zero value replays every client conversation
// of Pacemaker services once, read-only, with the recorded timing and the default mask,
// against the daemons of the caller's namespaces.
type Options struct {
	// Speed scales the recorded gaps between requests: 2 replays twice as fast. 0 means 1.
	Speed float64
	// ASAP sends each request as soon as the replies it followed in the recording have
	// come back, without the recorded gaps.
	ASAP bool
	// Loop replays the selection this many times, each time on new connections, for
	// load. 0 means 1.
	Loop int

	// AllowWrites sends requests of class write; without it they are refused.
	AllowWrites bool
	// AllClients includes conversations whose client is a Pacemaker daemon (controld's
	// CIB updates, attrd's writes, ...). Corosync services are never replayed.
	AllClients bool

	// Filters. A conversation is replayed when each non-empty filter matches: its
	// service, a pid of it (the client's as recorded or as the server saw it, or the
	// server's), its connection key. Ops selects requests by operation; a selected
	// conversation's sign-on (register, hello) is always sent with them.
	Services []string
	Ops      []string
	PIDs     []uint32
	Conns    []string

	// Mask leaves parts of replies out of the comparison; nil means DefaultMask().
	Mask *Mask

	// Timeout bounds each connection set-up and each wait for replies. 0 means 30 s.
	Timeout time.Duration

	// Dialect is the envelope to speak; 0 uses the one recorded on each connection. A
	// capture of Pacemaker 2.1.x replayed against 3.0.1 or later needs DialectB.
	Dialect qbipc.Dialect

	// Dial opens the live connections; nil means [DialQB] with qbipc.Dial. Use
	// qbipc.DialInNamespace to reach another namespace's daemons.
	Dial func(ctx context.Context, service string, opts qbipc.Options) (Conn, error)

	// Progress, if set, is called from Run's goroutine after each request is sent,
	// refused or given up, with the number handled so far and the total (all loops).
	Progress func(done, total int)
}

func (o *Options) withDefaults() Options {
	v := *o
	if v.Speed <= 0 {
		v.Speed = 1
	}
	if v.Loop <= 0 {
		v.Loop = 1
	}
	if v.Mask == nil {
		v.Mask = DefaultMask()
	}
	if v.Timeout <= 0 {
		v.Timeout = 30 * time.Second
	}
	if v.Dial == nil {
		v.Dial = DialQB(qbipc.Dial)
	}
	return v
}

// Skipped counts the conversations of a capture that a replay leaves out, by reason.
type Skipped struct {
	NotPacemaker int // corosync and other services
	Daemons      int // clients that are Pacemaker daemons, without AllClients
	Proxied      int // of Daemons, the controller's relays for Pacemaker Remote nodes' clients
	Filtered     int // left out by a filter
}

// A Step is one request of a replay plan.
type Step struct {
	Exchange *Exchange
	Offset   time.Duration // recorded time since the plan's first request
	Refused  bool          // a write, and AllowWrites is off
}

// signOn reports the operations a conversation needs first whatever Ops says.
func signOn(op string) bool { return op == "register" || op == "hello" }

// Plan returns the requests a replay with opts sends or refuses, in recorded time order,
// and what it leaves out. It sends nothing.
func Plan(c *Capture, opts Options) ([]Step, Skipped) {
	var sk Skipped
	var exs []*Exchange
	for _, cv := range c.Conversations {
		switch {
		case Daemon(cv.Service) == "":
			sk.NotPacemaker++
			continue
		case cv.Daemon() && !opts.AllClients:
			sk.Daemons++
			if cv.Proxied() {
				sk.Proxied++
			}
			continue
		case !opts.matchConv(cv):
			sk.Filtered++
			continue
		}
		var sel []*Exchange
		want := false
		for _, ex := range cv.Exchanges {
			if len(opts.Ops) == 0 || slices.Contains(opts.Ops, ex.Request.Op) {
				sel = append(sel, ex)
				want = true
			} else if signOn(ex.Request.Op) {
				sel = append(sel, ex)
			}
		}
		if !want {
			sk.Filtered++
			continue
		}
		exs = append(exs, sel...)
	}
	sort.SliceStable(exs, func(i, j int) bool {
		a, b := exs[i].Request, exs[j].Request
		if !a.Time.Equal(b.Time) {
			return a.Time.Before(b.Time)
		}
		return a.Seq < b.Seq
	})
	steps := make([]Step, len(exs))
	for i, ex := range exs {
		steps[i] = Step{
			Exchange: ex,
			Offset:   ex.Request.Time.Sub(exs[0].Request.Time),
			Refused:  ex.Class == ClassWrite && !opts.AllowWrites,
		}
	}
	return steps, sk
}

func (o *Options) matchConv(cv *Conversation) bool {
	if len(o.Services) > 0 && !slices.Contains(o.Services, cv.Service) {
		return false
	}
	if len(o.Conns) > 0 && !slices.Contains(o.Conns, cv.Conn) {
		return false
	}
	if len(o.PIDs) > 0 {
		ok := false
		for _, p := range o.PIDs {
			if p == cv.PID || p == cv.ClientPID || p == serverPID(cv) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func serverPID(cv *Conversation) uint32 {
	if len(cv.Exchanges) == 0 {
		return 0
	}
	return cv.Exchanges[0].Request.ServerPID
}

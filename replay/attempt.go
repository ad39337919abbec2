package replay

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// An attempt is one replayed exchange: the live replies collected for a recorded request.
type attempt struct {
	ex   *Exchange
	lc   *liveConn
	sent time.Time

	mu         sync.Mutex
	needResp   bool // a response was recorded
	needEvents int  // event replies recorded
	resp       *decode.Message
	events     []*decode.Message
	err        error
	finished   bool
	done       chan struct{}
	timer      *time.Timer
}

var errNoReply = errors.New("no reply")

func newAttempt(ex *Exchange, lc *liveConn) *attempt {
	return &attempt{
		ex: ex, lc: lc,
		needResp:   ex.Response != nil,
		needEvents: len(ex.Events),
		done:       make(chan struct{}),
	}
}

// complete reports whether every recorded reply has a live counterpart; a.mu held.
func (a *attempt) complete() bool {
	return (!a.needResp || a.resp != nil) && len(a.events) >= a.needEvents
}

// add files a live reply paired with the attempt's request.
func (a *attempt) add(m *decode.Message) {
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		return
	}
	switch m.Channel {
	case capfile.ChannelResponse:
		if a.resp == nil {
			a.resp = m
		}
	case capfile.ChannelEvent:
		if len(a.events) < a.needEvents {
			a.events = append(a.events, m)
		}
	}
	ok := a.complete()
	a.mu.Unlock()
	if ok {
		a.finish(nil)
	}
}

// start arms the reply timeout, or finishes at once when nothing is awaited.
func (a *attempt) start(timeout time.Duration) {
	a.mu.Lock()
	ok := a.complete()
	if !ok && !a.finished {
		a.timer = time.AfterFunc(timeout, func() {
			a.finish(fmt.Errorf("%w within %v", errNoReply, timeout))
		})
	}
	a.mu.Unlock()
	if ok {
		a.finish(nil)
	}
}

// finish ends the wait, with err when the replies did not all come; the first call wins.
// The session learns from the replies that came before anyone waiting on done goes on.
func (a *attempt) finish(err error) {
	a.mu.Lock()
	if a.finished {
		a.mu.Unlock()
		return
	}
	a.finished = true
	if a.timer != nil {
		a.timer.Stop()
	}
	a.err = err
	resp, events := a.resp, a.events
	a.mu.Unlock()
	if a.lc != nil {
		if err != nil && a.needResp && resp == nil {
			a.lc.giveUpResponses()
		}
		a.lc.learn(a.ex.Response, resp)
		for i, ev := range events {
			if i < len(a.ex.Events) {
				a.lc.learn(a.ex.Events[i], ev)
			}
		}
		a.lc.finished(a)
	}
	close(a.done)
}

// latency is the time from sending to the last live reply, taken from the tap's record
// times as decode computed it.
func (a *attempt) latency() time.Duration {
	var d time.Duration
	if a.resp != nil && a.resp.ReplyTo != nil {
		d = a.resp.ReplyTo.Latency
	}
	for _, m := range a.events {
		if m.ReplyTo != nil && m.ReplyTo.Latency > d {
			d = m.ReplyTo.Latency
		}
	}
	return d
}

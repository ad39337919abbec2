package replay

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// Run replays the capture's selected requests (see [Plan]) against live daemons and
// compares each live reply with the recorded one. Each recorded conversation gets a new
// connection to the same service, dialled at its first request and closed once its last
// request is answered; requests go out in recorded time order, paced by Speed or ASAP,
// and a request waits for the live replies of everything the recording had answered
// before it was sent. Session values (client ids) are learnt from the live replies and
// put into later requests (see [Session]).
//
// Run returns a report of every request handled. Problems with single requests (a
// refused connection, a timeout, a lost daemon) are results, not errors; the error is
// ctx's when it ends the replay early, and the report then covers what was handled.
func Run(ctx context.Context, c *Capture, opts Options) (*Report, error) {
	o := opts.withDefaults()
	if c.Section.Redacted != "" {
		o.Mask = o.Mask.withPlaceholders()
	}
	steps, sk := Plan(c, o)
	convs := map[*Conversation]bool{}
	for _, s := range steps {
		convs[s.Exchange.Conv] = true
	}
	rep := &Report{Conversations: len(convs), Skipped: sk, Loops: o.Loop}
	start := time.Now()
	handled, total := 0, len(steps)*o.Loop
	var err error
	for loop := 0; loop < o.Loop && err == nil; loop++ {
		lr := &loopRun{o: &o, loop: loop, bySeq: map[uint64]*attempt{}, conns: map[*Conversation]*liveConn{}}
		err = lr.run(ctx, steps, func() {
			handled++
			if o.Progress != nil {
				o.Progress(handled, total)
			}
		})
		rep.Results = append(rep.Results, lr.results()...)
	}
	rep.Elapsed = time.Since(start)
	rep.summarize()
	return rep, err
}

// loopRun is one pass over the plan.
type loopRun struct {
	o    *Options
	loop int
	tap  *tap

	mu    sync.Mutex
	bySeq map[uint64]*attempt // live request seq in the tap -> attempt

	conns    map[*Conversation]*liveConn
	dialErrs map[*Conversation]error
	byConv   map[*Conversation][]*attempt
	items    []item
	closers  sync.WaitGroup
}

// item is one handled step: an attempt, or an outcome decided without one.
type item struct {
	step    Step
	a       *attempt
	outcome Outcome
	err     error
}

func (lr *loopRun) run(ctx context.Context, steps []Step, tick func()) error {
	lr.tap = newTap(lr.deliver)
	lr.dialErrs = map[*Conversation]error{}
	lr.byConv = map[*Conversation][]*attempt{}
	last := map[*Conversation]int{}
	for i, s := range steps {
		last[s.Exchange.Conv] = i
	}
	clk := clock{start: time.Now(), speed: lr.o.Speed, asap: lr.o.ASAP}
	var inflight []*attempt
	var err error
	for i, s := range steps {
		if err = ctx.Err(); err != nil {
			break
		}
		ex := s.Exchange
		switch {
		case s.Refused:
			lr.items = append(lr.items, item{step: s, outcome: Refused})
		case ex.Request.Err != nil || ex.Request.Truncated:
			lr.items = append(lr.items, item{step: s, outcome: Failed,
				err: errors.New("the capture holds only part of the request")})
		default:
			if err = clk.wait(ctx, s.Offset); err != nil {
				break
			}
			if err = waitFor(ctx, followsReplies(inflight, ex.Request.Time)); err != nil {
				break
			}
			inflight = pruneDone(inflight)
			if a := lr.send(ctx, s); a != nil {
				inflight = append(inflight, a)
			}
		}
		if err != nil {
			break
		}
		if last[ex.Conv] == i {
			lr.closeWhenDone(ex.Conv)
		}
		tick()
	}
	if err != nil {
		// Give up on what still waits; the report says so.
		for _, a := range inflight {
			a.finish(err)
		}
	}
	for _, a := range inflight {
		<-a.done
	}
	for cv := range lr.conns { // conversations cut short by ctx
		lr.closeWhenDone(cv)
	}
	lr.closers.Wait()
	lr.tap.close()
	return err
}

// send dials the conversation's connection if needed and sends the step's request.
// It returns the attempt waiting for replies, or nil when the step failed at once.
func (lr *loopRun) send(ctx context.Context, s Step) *attempt {
	ex := s.Exchange
	cv := ex.Conv
	lc := lr.conns[cv]
	if lc == nil {
		if err := lr.dialErrs[cv]; err != nil {
			lr.items = append(lr.items, item{step: s, outcome: Failed, err: err})
			return nil
		}
		var err error
		key := fmt.Sprintf("replay-%d-%d", lr.loop, len(lr.conns)+len(lr.dialErrs))
		lc, err = dialLive(ctx, cv, key, lr.o, lr.tap, func(a *attempt, err error) { a.finish(err) })
		if err != nil {
			err = fmt.Errorf("connect: %w", err)
			lr.dialErrs[cv] = err
			lr.items = append(lr.items, item{step: s, outcome: Failed, err: err})
			return nil
		}
		lr.conns[cv] = lc
	}
	a := newAttempt(ex, lc)
	xml := lc.rewrite(ex.Request.XML)
	err := lc.send(ctx, xml, qbipc.Flags(ex.Request.Flags), a, func(seq uint64) {
		lr.mu.Lock()
		lr.bySeq[seq] = a
		lr.mu.Unlock()
	})
	lr.byConv[cv] = append(lr.byConv[cv], a)
	lr.items = append(lr.items, item{step: s, a: a})
	if err != nil {
		a.finish(fmt.Errorf("send: %w", err))
		return nil
	}
	a.start(lr.o.Timeout)
	return a
}

// deliver runs on the tap's goroutine for every live reply, ack and event.
func (lr *loopRun) deliver(m *decode.Message) {
	if m.ReplyTo == nil {
		return
	}
	lr.mu.Lock()
	a := lr.bySeq[m.ReplyTo.Seq]
	lr.mu.Unlock()
	if a != nil {
		a.add(m)
	}
}

// closeWhenDone disconnects a conversation once its attempts are finished. It runs once
// per connection.
func (lr *loopRun) closeWhenDone(cv *Conversation) {
	lc := lr.conns[cv]
	if lc == nil {
		return
	}
	delete(lr.conns, cv)
	attempts := lr.byConv[cv]
	lr.closers.Add(1)
	go func() {
		defer lr.closers.Done()
		for _, a := range attempts {
			<-a.done
		}
		lc.close()
	}()
}

// results judges every handled step.
func (lr *loopRun) results() []Result {
	out := make([]Result, 0, len(lr.items))
	for _, it := range lr.items {
		ex := it.step.Exchange
		r := Result{
			Loop: lr.loop, Seq: ex.Request.Seq, Packet: ex.Request.Packet, Conn: ex.Conv.Conn,
			Service: ex.Conv.Service, Op: ex.Request.Op, Comm: ex.Conv.Comm, Class: ex.Class,
			Offset: it.step.Offset, Outcome: it.outcome, Err: it.err,
			RecordedLatency: ex.RecordedLatency(),
		}
		if a := it.a; a != nil {
			r.Sent = !a.sent.IsZero()
			r.Outcome, r.Diffs, r.Err = compareAttempt(a, lr.o.Mask)
			r.Answered = r.Sent && r.Outcome != Failed
			if r.Answered {
				r.Latency = a.latency()
			}
		}
		out = append(out, r)
	}
	return out
}

// waitFor waits until every attempt is finished or ctx ends.
func waitFor(ctx context.Context, as []*attempt) error {
	for _, a := range as {
		select {
		case <-a.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func pruneDone(as []*attempt) []*attempt {
	out := as[:0]
	for _, a := range as {
		select {
		case <-a.done:
		default:
			out = append(out, a)
		}
	}
	clear(as[len(out):])
	return out
}

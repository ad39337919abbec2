package analyse

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// optionalTimeout is how long a request that expects no reply is kept in
// case one comes anyway: corosync answers most of its requests within
// milliseconds, and a successful cpg message not at all.
const optionalTimeout = 10 * time.Second

// seqQueue holds the seqs of tracked requests in the order they were sent;
// seqs of requests no longer tracked are skipped when they come up.
type seqQueue struct {
	seqs []uint64
	head int
}

func (q *seqQueue) push(seq uint64) { q.seqs = append(q.seqs, seq) }

// front returns the oldest seq still in a.pending, dropping the others.
func (q *seqQueue) front(pending map[uint64]*pendingReq) (uint64, *pendingReq) {
	for q.head < len(q.seqs) {
		seq := q.seqs[q.head]
		if p := pending[seq]; p != nil {
			return seq, p
		}
		q.head++
	}
	q.seqs, q.head = q.seqs[:0], 0
	return 0, nil
}

func (q *seqQueue) pop() {
	q.head++
	if q.head > 1024 && q.head*2 > len(q.seqs) {
		n := copy(q.seqs, q.seqs[q.head:])
		q.seqs, q.head = q.seqs[:n], 0
	}
}

// track remembers a request that may be answered until it is, or is
// given up or evicted. Requests with a Pacemaker envelope that expect no
// reply are never answered (decode does not wait for them either).
func (a *Aggregator) track(m *decode.Message, st *opStats) {
	q := &a.waiting
	if !m.ExpectsReply {
		if m.Dialect != decode.DialectAuto {
			return
		}
		q = &a.optional
	}
	if len(a.pending) >= a.cfg.MaxInFlight {
		a.evictOldest()
	}
	var p *pendingReq
	if n := len(a.spare); n > 0 {
		p, a.spare = a.spare[n-1], a.spare[:n-1]
	} else {
		p = new(pendingReq)
	}
	*p = pendingReq{op: st, service: m.Service, time: m.Time, expects: m.ExpectsReply}
	a.pending[m.Seq] = p
	q.push(m.Seq)
	if d := m.Time.Add(a.timeout(q)); !a.dueSet || d.Before(a.due) {
		a.due, a.dueSet = d, true
	}
	if p.expects {
		st.open++
		a.inFlight[m.Service]++
	}
}

// timeout is how long the requests of queue q are waited for.
func (a *Aggregator) timeout(q *seqQueue) time.Duration {
	if q == &a.optional {
		return optionalTimeout
	}
	return a.cfg.PendingTimeout
}

// expire gives up the requests that waited too long by capture time now.
// It runs per message, so it remembers when the oldest request of each
// queue is due and does nothing before: looking the fronts up was most of
// a Top's work per message. (A front answered in the meantime leaves due
// early, which only costs a look; requests are queued in time order, so
// the next front is due no sooner.)
func (a *Aggregator) expire(now time.Time) {
	if a.dueSet && now.Before(a.due) {
		return
	}
	a.dueSet = false
	for _, q := range []*seqQueue{&a.waiting, &a.optional} {
		timeout := a.timeout(q)
		for {
			seq, p := q.front(a.pending)
			if p == nil {
				break
			}
			if d := p.time.Add(timeout); now.Before(d) {
				if !a.dueSet || d.Before(a.due) {
					a.due, a.dueSet = d, true
				}
				break
			}
			q.pop()
			delete(a.pending, seq)
			a.giveUp(p, false)
			a.release(p)
		}
	}
}

// evictOldest makes room for one more request: it forgets the oldest one
// that expects no reply, or else the oldest one waiting, which, if it is
// still unanswered, counts as dropped.
func (a *Aggregator) evictOldest() {
	for _, q := range []*seqQueue{&a.optional, &a.waiting} {
		if seq, p := q.front(a.pending); p != nil {
			q.pop()
			delete(a.pending, seq)
			a.giveUp(p, true)
			a.release(p)
			return
		}
	}
}

func (a *Aggregator) giveUp(p *pendingReq, overflow bool) {
	if !p.expects || p.answered {
		return
	}
	p.op.open--
	p.op.gone++
	a.inFlight[p.service]--
	if overflow {
		a.dropped++
	}
}

// maxSpare bounds the requests' records kept for reuse.
const maxSpare = 1024

// release keeps p, no longer tracked, for the next request: a busy node
// sends thousands a second.
func (a *Aggregator) release(p *pendingReq) {
	if len(a.spare) < maxSpare {
		*p = pendingReq{}
		a.spare = append(a.spare, p)
	}
}

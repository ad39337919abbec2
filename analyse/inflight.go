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
	p := &pendingReq{op: st, service: m.Service, time: m.Time, expects: m.ExpectsReply}
	a.pending[m.Seq] = p
	q.push(m.Seq)
	if p.expects {
		st.open++
		a.inFlight[m.Service]++
	}
}

// expire gives up the requests that waited too long by capture time now.
func (a *Aggregator) expire(now time.Time) {
	for _, e := range []struct {
		q       *seqQueue
		timeout time.Duration
	}{{&a.waiting, a.cfg.PendingTimeout}, {&a.optional, optionalTimeout}} {
		for {
			seq, p := e.q.front(a.pending)
			if p == nil || now.Sub(p.time) < e.timeout {
				break
			}
			e.q.pop()
			delete(a.pending, seq)
			a.giveUp(p, false)
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

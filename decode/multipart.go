package decode

import (
	"cmp"
	"slices"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// partKey names one direction of one connection as one process saw it:
// parts of different messages never interleave within it, while different
// keys interleave freely (docs/protocol.md 6.7).
type partKey struct {
	conn string
	ch   capfile.Channel
	rx   bool
}

// partial is a dialect B multipart message being reassembled.
type partial struct {
	key       partKey
	qbID      int32
	flags     Flags  // flags of the first part seen, multipart bits cleared
	next      uint16 // part id expected next
	parts     int
	size      int    // wire bytes of all parts
	xmlBytes  int    // text bytes the parts declare, NULs excluded
	text      []byte // payloads without their NULs
	truncated bool   // a part was cut short; text stops there
	last      capfile.Record
	err       *FormatError // first thing wrong; text is dropped once set
}

// reassembler collects multipart messages per partKey. Memory is bounded:
// one message's text by limit, all pending text together by budget.
type reassembler struct {
	pending map[partKey]*partial
	limit   int
	budget  int
	held    int
}

func newReassembler(limit int) *reassembler {
	return &reassembler{pending: make(map[partKey]*partial), limit: limit, budget: 2 * limit}
}

// identity keeps a record's identity without its bytes.
func identity(rec *capfile.Record) capfile.Record {
	id := *rec
	id.Data = nil
	return id
}

func (r *reassembler) brokenf(p *partial, rec *capfile.Record, offset int, format string, args ...any) {
	if p.err != nil {
		return
	}
	p.err = &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: offset, Conn: p.key.conn, QBID: p.qbID,
		Err: fail(ErrMultipart, format, args...)}
	r.release(p)
}

// release forgets p's text, giving its bytes back to the budget.
func (r *reassembler) release(p *partial) {
	r.held -= len(p.text)
	p.text = nil
}

// finish removes p from the pending set.
func (r *reassembler) finish(p *partial) *partial {
	if r.pending[p.key] == p {
		delete(r.pending, p.key)
	}
	r.held -= len(p.text)
	return p
}

// single tells the reassembler that a message without multipart flags
// arrived on key; a message still pending there lost its final part.
func (r *reassembler) single(key partKey, rec *capfile.Record, qbID int32) *partial {
	p := r.pending[key]
	if p == nil {
		return nil
	}
	r.brokenf(p, rec, -1, "part %d missing: single message qb id %d arrived", p.next, qbID)
	return r.finish(p)
}

// add takes one part. payload is the bytes after the envelope as captured
// (shorter than env.size when truncated), wire its libqb size. It returns
// the messages that ended: any message abandoned on key, then this one if
// it was the final part (or could not be part of anything).
func (r *reassembler) add(key partKey, rec *capfile.Record, qbID int32, env envelope, payload []byte, truncated bool, wire int) []*partial {
	var out []*partial
	multi := env.flags&FlagMultipart != 0
	end := env.flags&FlagMultipartEnd != 0
	k := env.partID
	p := r.pending[key]

	if p != nil && (k == 0 || p.qbID != qbID) {
		// A new message started: the old one will never see its end.
		r.brokenf(p, rec, -1, "part %d missing: qb id %d part %d arrived", p.next, qbID, k)
		out = append(out, r.finish(p))
		p = nil
	}
	if p == nil {
		p = &partial{key: key, qbID: qbID, flags: env.flags &^ (FlagMultipart | FlagMultipartEnd)}
		switch {
		case !multi:
			r.brokenf(p, rec, 28, "multipart_end without multipart")
		case k == 0 && end:
			r.brokenf(p, rec, 34, "final part has part id 0")
		case k != 0:
			r.brokenf(p, rec, 34, "part 0 missing: part %d arrived first", k)
		}
		p.next = k
		r.pending[key] = p
	}

	switch {
	case k == p.next:
	case k+1 == p.next:
		r.brokenf(p, rec, 34, "part %d duplicated", k)
	case k < p.next:
		r.brokenf(p, rec, 34, "part %d out of order after part %d", k, p.next-1)
	default:
		r.brokenf(p, rec, 34, "part %d missing: part %d arrived", p.next, k)
	}
	p.next = k + 1
	p.parts++
	p.size += wire
	p.last = identity(rec)
	if env.size > 0 {
		p.xmlBytes += int(env.size) - 1
	}

	switch {
	case p.err != nil || p.truncated:
	case truncated:
		// keep what was captured of this part; nothing after it lines up
		p.truncated = true
		if n := min(len(payload), int(env.size)-1); n > 0 && len(p.text)+n <= r.limit && r.held+n <= r.budget {
			p.text = append(p.text, payload[:n]...)
			r.held += n
		}
	case len(payload) == 0 || payload[len(payload)-1] != 0:
		r.brokenf(p, rec, envelopeLen+len(payload)-1, "part %d does not end in NUL", k)
	case len(p.text)+len(payload)-1 > r.limit:
		p.err = &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: -1, Conn: key.conn, QBID: qbID,
			Err: fail(ErrTooLarge, "multipart text over the %d-byte limit", r.limit)}
		r.release(p)
	case r.held+len(payload)-1 > r.budget:
		p.err = &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: -1, Conn: key.conn, QBID: qbID,
			Err: fail(ErrTooLarge, "multipart messages in flight over %d bytes", r.budget)}
		r.release(p)
	default:
		p.text = append(p.text, payload[:len(payload)-1]...)
		r.held += len(payload) - 1
	}

	if end || !multi {
		out = append(out, r.finish(p))
	}
	return out
}

// drop abandons every message pending on conn (it disconnected), or on all
// connections when all is set (the capture ended).
func (r *reassembler) drop(conn string, all bool, why string) []*partial {
	var out []*partial
	for key, p := range r.pending {
		if !all && key.conn != conn {
			continue
		}
		r.brokenf(p, &p.last, -1, "final part missing: %s after part %d", why, p.next-1)
		out = append(out, r.finish(p))
	}
	slices.SortFunc(out, func(a, b *partial) int { return cmp.Compare(a.last.Seq, b.last.Seq) })
	return out
}

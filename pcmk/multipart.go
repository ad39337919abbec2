package pcmk

import (
	"cmp"
	"slices"
)

// A Partial is a dialect B multipart message being reassembled, or one
// that ended (whole, broken or abandoned). K is the caller's key for one
// direction of one connection; T is what the caller tells of each part
// (where it was found), kept for the first part, the last one, and the one
// at which the sequence broke.
type Partial[K comparable, T any] struct {
	Key       K
	ID        int32  // libqb id
	Flags     Flags  // flags of the first part seen, multipart bits cleared
	Parts     int    // parts taken
	Size      int    // wire bytes of all parts
	TextBytes int    // text bytes the parts declare, NULs excluded
	Text      []byte // payloads without their NULs
	Truncated bool   // a part was cut short; Text stops there
	First     T
	Last      T

	// Err is the first thing wrong, wrapping ErrMultipart or ErrTooLarge;
	// Text is dropped once it is set. ErrTag is the part at which it was
	// found, and ErrOffset the byte of that part's message at fault, or -1.
	Err       error
	ErrTag    T
	ErrOffset int

	next  uint16 // part id expected next
	order uint64 // when the last part came, for Drop's order
}

// A Reassembler joins dialect B multipart messages per key: parts of
// different messages never interleave under one key, while different keys
// interleave freely. Memory is bounded: one message's text by the limit,
// all pending text together by twice the limit. A Reassembler is not safe
// for concurrent use.
type Reassembler[K comparable, T any] struct {
	pending map[K]*Partial[K, T]
	limit   int
	budget  int
	held    int
	order   uint64
}

// NewReassembler returns a Reassembler that holds at most limit bytes of
// text per message (0 means DefaultMaxText).
func NewReassembler[K comparable, T any](limit int) *Reassembler[K, T] {
	if limit <= 0 {
		limit = DefaultMaxText
	}
	return &Reassembler[K, T]{pending: make(map[K]*Partial[K, T]), limit: limit, budget: 2 * limit}
}

func (r *Reassembler[K, T]) brokenf(p *Partial[K, T], tag T, offset int, format string, args ...any) {
	r.broken(p, tag, offset, Fail(ErrMultipart, format, args...))
}

func (r *Reassembler[K, T]) broken(p *Partial[K, T], tag T, offset int, err error) {
	if p.Err != nil {
		return
	}
	p.Err, p.ErrTag, p.ErrOffset = err, tag, offset
	r.held -= len(p.Text)
	p.Text = nil
}

// finish removes p from the pending set.
func (r *Reassembler[K, T]) finish(p *Partial[K, T]) *Partial[K, T] {
	if r.pending[p.Key] == p {
		delete(r.pending, p.Key)
	}
	r.held -= len(p.Text)
	return p
}

// Held returns how many messages are pending and how many bytes of text
// they hold.
func (r *Reassembler[K, T]) Held() (messages, text int) { return len(r.pending), r.held }

// Pending returns the message being reassembled under key, or nil.
func (r *Reassembler[K, T]) Pending(key K) *Partial[K, T] { return r.pending[key] }

// Discard forgets the message pending under key and returns it, or nil.
func (r *Reassembler[K, T]) Discard(key K) *Partial[K, T] {
	if p := r.pending[key]; p != nil {
		return r.finish(p)
	}
	return nil
}

// Single tells the reassembler that a message without multipart flags, of
// libqb id id, arrived under key; a message still pending there lost its
// final part, and is returned broken.
func (r *Reassembler[K, T]) Single(key K, tag T, id int32) *Partial[K, T] {
	p := r.pending[key]
	if p == nil {
		return nil
	}
	r.brokenf(p, tag, -1, "part %d missing: single message qb id %d arrived", p.next, id)
	return r.finish(p)
}

// Add takes one part with libqb id id and envelope env. payload is the
// bytes after the envelope as captured (shorter than env.PartSize when
// truncated), wire the part's libqb size. It returns the messages that
// ended: any message abandoned under key, then this one if it was the
// final part (or could not be part of anything).
func (r *Reassembler[K, T]) Add(key K, tag T, id int32, env Envelope, payload []byte, truncated bool, wire int) []*Partial[K, T] {
	var out []*Partial[K, T]
	multi := env.Flags&FlagMultipart != 0
	end := env.Flags&FlagMultipartEnd != 0
	k := env.PartID
	p := r.pending[key]
	r.order++

	if p != nil && (k == 0 || p.ID != id) {
		// A new message started: the old one will never see its end.
		r.brokenf(p, tag, -1, "part %d missing: qb id %d part %d arrived", p.next, id, k)
		out = append(out, r.finish(p))
		p = nil
	}
	if p == nil {
		p = &Partial[K, T]{Key: key, ID: id, Flags: env.Flags &^ (FlagMultipart | FlagMultipartEnd), First: tag}
		switch {
		case !multi:
			r.brokenf(p, tag, 28, "multipart_end without multipart")
		case k == 0 && end:
			r.brokenf(p, tag, 34, "final part has part id 0")
		case k != 0:
			r.brokenf(p, tag, 34, "part 0 missing: part %d arrived first", k)
		}
		p.next = k
		r.pending[key] = p
	}

	switch {
	case k == p.next:
	case k+1 == p.next:
		r.brokenf(p, tag, 34, "part %d duplicated", k)
	case k < p.next:
		r.brokenf(p, tag, 34, "part %d out of order after part %d", k, p.next-1)
	default:
		r.brokenf(p, tag, 34, "part %d missing: part %d arrived", p.next, k)
	}
	p.next = k + 1
	p.Parts++
	p.Size += wire
	p.Last, p.order = tag, r.order
	if env.PartSize > 0 {
		p.TextBytes += int(env.PartSize) - 1
	}

	switch {
	case p.Err != nil || p.Truncated:
	case truncated:
		// keep what was captured of this part; nothing after it lines up
		p.Truncated = true
		if n := min(len(payload), int(env.PartSize)-1); n > 0 && len(p.Text)+n <= r.limit && r.held+n <= r.budget {
			p.Text = append(p.Text, payload[:n]...)
			r.held += n
		}
	case len(payload) == 0 || payload[len(payload)-1] != 0:
		r.brokenf(p, tag, EnvelopeLen+len(payload)-1, "part %d does not end in NUL", k)
	case len(p.Text)+len(payload)-1 > r.limit:
		r.broken(p, tag, -1, Fail(ErrTooLarge, "multipart text over the %d-byte limit", r.limit))
	case r.held+len(payload)-1 > r.budget:
		r.broken(p, tag, -1, Fail(ErrTooLarge, "multipart messages in flight over %d bytes", r.budget))
	default:
		p.Text = append(p.Text, payload[:len(payload)-1]...)
		r.held += len(payload) - 1
	}

	if end || !multi {
		out = append(out, r.finish(p))
	}
	return out
}

// Drop abandons every pending message whose key match accepts (all of
// them for a nil match), saying why its final part is missing, and returns
// them in the order their last parts came.
func (r *Reassembler[K, T]) Drop(match func(K) bool, why string) []*Partial[K, T] {
	var out []*Partial[K, T]
	for key, p := range r.pending {
		if match != nil && !match(key) {
			continue
		}
		r.brokenf(p, p.Last, -1, "final part missing: %s after part %d", why, p.next-1)
		out = append(out, r.finish(p))
	}
	slices.SortFunc(out, func(a, b *Partial[K, T]) int { return cmp.Compare(a.order, b.order) })
	return out
}

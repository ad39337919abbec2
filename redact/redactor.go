package redact

import (
	"bytes"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Options configure a [Redactor].
type Options struct {
	Rules Rules
	// Key keys the placeholders' HMAC. Nil draws a random key: the
	// placeholders then tell nothing about the secrets, even to someone who
	// guesses them.
	Key []byte
	// MaxHeld bounds the bytes of multipart messages held back waiting for
	// their last part (default 64 MiB). Past it the oldest is redacted part
	// by part, as if it had been abandoned.
	MaxHeld int
}

// Stats count what a Redactor did.
type Stats struct {
	Records      uint64 // records given to it
	Messages     uint64 // of which libqb messages
	Changed      uint64 // messages with at least one value redacted
	Values       uint64 // values redacted
	Recompressed uint64 // compressed bodies inflated, redacted and compressed again
	Reassembled  uint64 // multipart messages redacted as one text
	PartsAlone   uint64 // parts redacted on their own (their message was incomplete): a secret split across them may survive in part
	Zeroed       uint64 // compressed bodies that could not be inflated (cut short, broken): their bytes were zeroed
}

// A Redactor redacts a stream of capture records, in order. Records of a
// multipart message are held back until its last part arrives, and every
// record after them with them, so the output keeps the input's order.
type Redactor struct {
	opts    Options
	sc      scanner
	stats   Stats
	queue   []*item
	pending map[partKey]*group
	held    int
	out     []*capfile.Record
	joined  []byte
}

type partKey struct {
	conn string
	ch   capfile.Channel
	rx   bool
}

// item is a record waiting in the queue; it is ready when it belongs to
// no multipart message or its message is done.
type item struct {
	rec   *capfile.Record
	group *group
}

// group is the parts of one multipart message seen so far.
type group struct {
	key    partKey
	id     int32
	parts  []*capfile.Record
	broken bool // a part was cut short: the text cannot be joined
	done   bool
}

// New returns a Redactor for the rules.
func New(o Options) (*Redactor, error) {
	m, err := o.Rules.compile()
	if err != nil {
		return nil, err
	}
	if o.MaxHeld <= 0 {
		o.MaxHeld = 64 << 20
	}
	return &Redactor{opts: o, sc: scanner{m: m, ph: newPlaceholders(o.Key)}, pending: make(map[partKey]*group)}, nil
}

// Stats returns the counts so far.
func (r *Redactor) Stats() Stats { return r.stats }

// Record redacts rec and returns the records that are ready, in order:
// rec itself (redacted in place; a recompressed message gets new Data),
// or nothing while a multipart message is incomplete, or the records held
// back until now. The Redactor copies what it holds, so the caller may
// reuse rec afterwards; the records returned are valid until the next call.
func (r *Redactor) Record(rec *capfile.Record) []*capfile.Record {
	r.out = r.out[:0]
	r.stats.Records++
	held := false
	switch rec.Kind {
	case capfile.KindMessage:
		held = r.message(rec)
	case capfile.KindDisconnect:
		for k, g := range r.pending {
			if k.conn == rec.Conn {
				r.alone(g)
			}
		}
	case capfile.KindLoss:
		// A lost piece may be a part: waiting for the rest of any message could be forever.
		for _, g := range r.pending {
			r.alone(g)
		}
	}
	if !held {
		if len(r.queue) == 0 {
			return append(r.out, rec)
		}
		r.hold(rec, nil)
	}
	r.evict()
	return r.drain()
}

// evict redacts incomplete multipart messages part by part, oldest first, while more than
// MaxHeld bytes wait behind them: a message whose last part never comes must not stop the
// output.
func (r *Redactor) evict() {
	for r.held > r.opts.MaxHeld {
		var oldest *group
		for _, it := range r.queue {
			if it.group != nil && !it.group.done {
				oldest = it.group
				break
			}
		}
		if oldest == nil {
			return
		}
		r.alone(oldest)
	}
}

// Flush redacts the multipart messages still incomplete, part by part, and
// returns every record held back. Call it at the end of the stream.
func (r *Redactor) Flush() []*capfile.Record {
	r.out = r.out[:0]
	for _, g := range r.pending {
		r.alone(g)
	}
	return r.drain()
}

func (r *Redactor) hold(rec *capfile.Record, g *group) *capfile.Record {
	c := *rec
	c.Data = bytes.Clone(rec.Data)
	r.queue = append(r.queue, &item{rec: &c, group: g})
	r.held += len(c.Data)
	return &c
}

func (r *Redactor) drain() []*capfile.Record {
	n := 0
	for n < len(r.queue) && (r.queue[n].group == nil || r.queue[n].group.done) {
		r.out = append(r.out, r.queue[n].rec)
		r.held -= len(r.queue[n].rec.Data)
		n++
	}
	r.queue = r.queue[n:]
	if len(r.queue) == 0 {
		r.queue = nil
	}
	return r.out
}

// text redacts b in place.
func (r *Redactor) text(b []byte, stonith bool) int {
	n := r.sc.redact(b, stonith)
	r.stats.Values += uint64(n)
	return n
}

// message redacts a message record; it reports whether it held the record
// (a part of a multipart message).
func (r *Redactor) message(rec *capfile.Record) bool {
	r.stats.Messages++
	data := rec.Data
	if len(data) < qbRequestHeaderLen || qbID(data) < 0 {
		return false // a libqb control message: no text
	}
	stonith := rec.Service == "stonith-ng"
	truncated := rec.Flags&capfile.FlagTruncated != 0 || len(data) < int(rec.OrigLen)
	e, ok := parseEnvelope(data)
	if !ok {
		// Not Pacemaker's envelope (corosync, or unknown bytes): any XML
		// in it is redacted where it lies, and literal values wherever
		// they are; nothing else changes.
		n := r.text(data[qbRequestHeaderLen:], stonith)
		lit := r.sc.literals(data[qbRequestHeaderLen:])
		r.stats.Values += uint64(lit)
		if n+lit > 0 {
			r.stats.Changed++
		}
		return false
	}
	key := partKey{rec.Conn, rec.Channel, rec.Flags&capfile.FlagRX != 0}
	switch {
	case e.compressed():
		r.compressed(rec, e, truncated, stonith)
		return false
	case e.multipart():
		return r.part(rec, e, key, truncated)
	}
	if g := r.pending[key]; g != nil && e.dialect == pcmk.DialectB {
		r.alone(g) // its last part will never come
	}
	if r.text(body(data, e), stonith) > 0 {
		r.stats.Changed++
	}
	return false
}

// body is the plain text of a message or part, without its NUL, as far as
// it was captured.
func body(data []byte, e envelope) []byte {
	end := envelopeLen + e.textLen() - 1
	if end < envelopeLen || end > len(data) {
		end = len(data)
	}
	return data[envelopeLen:end]
}

// compressed redacts a bzip2 body: inflate, redact, compress again.
func (r *Redactor) compressed(rec *capfile.Record, e envelope, truncated, stonith bool) {
	payload := rec.Data[envelopeLen:]
	if truncated || int(e.sizeCompressed) != len(payload) {
		clear(payload) // cannot be inflated, so cannot be checked: keep none of it
		r.stats.Zeroed++
		r.stats.Changed++
		return
	}
	text, err := inflate(payload, e.sizeUncompressed)
	if err != nil {
		clear(payload)
		r.stats.Zeroed++
		r.stats.Changed++
		return
	}
	if r.text(text[:len(text)-1], stonith) == 0 {
		return
	}
	z, err := deflate(text)
	if err != nil {
		clear(payload)
		r.stats.Zeroed++
		r.stats.Changed++
		return
	}
	rec.Data = setCompressed(rec.Data, z)
	rec.OrigLen = uint32(len(rec.Data))
	r.stats.Recompressed++
	r.stats.Changed++
}

// part takes one part of a multipart message and holds it.
func (r *Redactor) part(rec *capfile.Record, e envelope, key partKey, truncated bool) bool {
	g := r.pending[key]
	if g != nil && (e.partID == 0 || g.id != e.id || int(e.partID) != len(g.parts)) {
		r.alone(g)
		g = nil
	}
	if g == nil {
		if e.partID != 0 {
			// the start of this message is missing: redact what is here
			if r.text(body(rec.Data, e), rec.Service == "stonith-ng") > 0 {
				r.stats.Changed++
			}
			r.stats.PartsAlone++
			return false
		}
		g = &group{key: key, id: e.id}
		r.pending[key] = g
	}
	g.parts = append(g.parts, r.hold(rec, g))
	g.broken = g.broken || truncated || len(rec.Data) < envelopeLen+int(e.partSize) || e.partSize == 0
	if e.lastPart() {
		r.join(g)
	}
	return true
}

// join redacts a whole multipart message as one text and puts the text
// back into its parts: placeholders keep lengths, so the parts keep theirs.
func (r *Redactor) join(g *group) {
	if g.broken {
		r.alone(g)
		return
	}
	r.joined = r.joined[:0]
	for _, p := range g.parts {
		e, _ := parseEnvelope(p.Data)
		r.joined = append(r.joined, body(p.Data, e)...)
	}
	if r.text(r.joined, g.parts[0].Service == "stonith-ng") > 0 {
		r.stats.Changed++
		off := 0
		for _, p := range g.parts {
			e, _ := parseEnvelope(p.Data)
			off += copy(body(p.Data, e), r.joined[off:])
		}
	}
	r.stats.Reassembled++
	r.finish(g)
}

// alone redacts each part of an incomplete multipart message on its own.
func (r *Redactor) alone(g *group) {
	for _, p := range g.parts {
		e, _ := parseEnvelope(p.Data)
		if r.text(body(p.Data, e), p.Service == "stonith-ng") > 0 {
			r.stats.Changed++
		}
		r.stats.PartsAlone++
	}
	r.finish(g)
}

func (r *Redactor) finish(g *group) {
	g.done = true
	if r.pending[g.key] == g {
		delete(r.pending, g.key)
	}
}

package decode

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// RecordSource yields capture records in file order, and io.EOF at the
// end. *capfile.Reader is one. Each record must be new: messages keep
// slices of its Data instead of copying the text out.
type RecordSource interface {
	Next() (*capfile.Record, error)
}

// Options configure a [Reader]. The zero value is what the command line
// starts from: a zero (or negative) limit means its default.
type Options struct {
	// Dialect forces the envelope dialect of every Pacemaker message.
	// DialectAuto detects it per connection from the bytes.
	Dialect Dialect

	// MaxDecompressed caps the text of one message after bzip2
	// decompression or multipart reassembly. Larger messages are reported
	// with ErrTooLarge; nothing bigger is ever allocated. Multipart
	// messages in flight together may hold twice this. Default 64 MiB
	// (pcmk.DefaultMaxText).
	MaxDecompressed int

	// MaxPending caps the requests waiting for a reply (default
	// DefaultMaxPending), and PendingTimeout how long (in capture time) one
	// may wait (default DefaultPendingTimeout). Older requests are given up and counted in
	// Stats.Unanswered.
	MaxPending     int
	PendingTimeout time.Duration

	// StrictXML parses every message's XML with etree as well, which
	// applies encoding/xml's rules to names and characters. It costs about
	// ten times the built-in well-formedness check.
	StrictXML bool

	// RootOnly reads only the root element's start tag, which gives every
	// field of a Message, and leaves the rest of the XML unchecked: a live
	// view that shows rates and latencies, not documents, decodes at about
	// half the cost. A document broken after its start tag is not reported.
	// StrictXML is ignored with it.
	RootOnly bool

	// CheckLater makes Next read only each message's root start tag, as
	// RootOnly does, and leaves the rest of the XML check (and
	// StrictXML's) to Reader.Check, which the caller runs on each message,
	// perhaps in another goroutine: a large capture then decodes on two
	// cores instead of one. A message not given to Check is not checked.
	CheckLater bool

	// NoRelays leaves every request's Relays 0, so that requests' XML is
	// not hashed: linking a relayed request to the remote tool's original
	// costs every request a pass over its whole text and a map entry, for
	// a field a live view does not show. ProxiedFor is still set, from the
	// root tag of the proxied requests alone.
	NoRelays bool

	// Lifecycle makes Next return connect and disconnect records.
	Lifecycle bool

	// Recycle says that the source's records come from capfile's
	// Reader.Next and may be given back with capfile.Recycle: the Reader
	// does so once it has decoded one, or, when a message's XML is in the
	// record, when the caller gives that message back with
	// Message.Release. A source that hands out a record twice must not be
	// read with it.
	Recycle bool

	// Filter selects the messages Next returns. Pairing and Stats see
	// every message.
	Filter Filter
}

// Defaults of the Options limits that are decode's own.
const (
	DefaultMaxPending     = 65536
	DefaultPendingTimeout = 10 * time.Minute
)

// Stats count what a Reader has seen so far.
type Stats struct {
	Records    uint64 // records read from the source
	Messages   uint64 // messages decoded, a multipart message once, before filtering
	Errors     uint64 // messages and records with Err set
	Truncated  uint64 // messages the capture holds only part of
	Lost       uint64 // messages the recorder lost, from loss records
	Requests   uint64 // requests that expected a reply
	Answered   uint64 // requests that got one (an ack counts)
	Unanswered uint64 // requests given up: timed out, evicted, disconnected, or the capture ended
}

// Reader decodes a stream of capture records into messages.
//
// It holds only the messages in flight: multipart messages being
// reassembled and requests waiting for their replies, both bounded by
// [Options]. A Reader is not safe for concurrent use.
type Reader struct {
	src      RecordSource
	opts     Options
	queue    []*Message
	qhead    int
	err      error
	parts    *reassembler
	pairs    *pairer
	dialects map[string]Dialect
	scan     xmlScanner
	inflate  pcmk.Inflater
	fields   fieldCache // the root tag's few-valued fields

	famService string      // the service family last returned for
	famOf      pcmk.Family // its family
	stats      Stats
	cur        *capfile.Record // with Options.Recycle: the record being decoded, until a message takes it

	later       xmlScanner    // Check's, in the caller's goroutine
	laterErrors atomic.Uint64 // errors Check found
}

// maxDialects bounds the per-connection dialect memory; it is only a
// consistency aid, since every message is checked on its own.
const maxDialects = 1 << 16

// NewReader returns a Reader that decodes the records of src.
func NewReader(src RecordSource, opts Options) *Reader {
	if opts.MaxDecompressed <= 0 {
		opts.MaxDecompressed = pcmk.DefaultMaxText
	}
	if opts.MaxPending <= 0 {
		opts.MaxPending = DefaultMaxPending
	}
	if opts.PendingTimeout <= 0 {
		opts.PendingTimeout = DefaultPendingTimeout
	}
	r := &Reader{src: src, opts: opts, dialects: make(map[string]Dialect)}
	r.parts = pcmk.NewReassembler[partKey, capfile.Record](opts.MaxDecompressed)
	r.pairs = newPairer(opts.MaxPending, opts.PendingTimeout, &r.stats)
	r.pairs.links.off = opts.NoRelays
	return r
}

// Next returns the next message that passes the filter, in the order the
// messages were completed (a multipart message when its final part
// arrives). A message that could not be decoded is returned with Err set,
// and decoding goes on. A *capfile.FormatError from the source concerns
// one record and is returned as a KindInvalid message. At the end of the
// source, messages still incomplete are returned with Err set, then
// io.EOF. Any other source error is returned as is, then again by every
// later call.
func (r *Reader) Next() (*Message, error) {
	for {
		for r.qhead < len(r.queue) {
			m := r.queue[r.qhead]
			r.queue[r.qhead] = nil
			r.qhead++
			if r.opts.Filter.Match(m) {
				return m, nil
			}
			m.Release() // nobody saw it
		}
		r.queue, r.qhead = r.queue[:0], 0
		if r.err != nil {
			return nil, r.err
		}
		rec, err := r.src.Next()
		switch {
		case err == nil:
			if rec != nil {
				r.record(rec)
			}
		case formatError(err) != nil:
			r.emit(&Message{Kind: KindInvalid, Packet: formatError(err).Packet, Err: err})
		default:
			r.end()
			r.err = err
		}
	}
}

// Stats returns the counts so far. After Next returned io.EOF, requests
// still waiting have been counted as unanswered.
func (r *Reader) Stats() Stats {
	st := r.stats
	st.Errors += r.laterErrors.Load()
	return st
}

// formatError returns the *capfile.FormatError err wraps, or nil. It is
// called only on an error: the target of errors.As escapes to the heap,
// which would cost every record an allocation.
func formatError(err error) *capfile.FormatError {
	var fe *capfile.FormatError
	if errors.As(err, &fe) {
		return fe
	}
	return nil
}

func (r *Reader) emit(m *Message) {
	if m.Kind == KindMessage {
		r.stats.Messages++
		if m.Truncated {
			r.stats.Truncated++
		}
	}
	if m.Err != nil {
		r.stats.Errors++
	}
	r.queue = append(r.queue, m)
}

// end flushes what the capture left incomplete.
func (r *Reader) end() {
	for _, p := range r.parts.Drop(nil, "capture ended") {
		r.partial(p)
	}
	r.pairs.closeAll()
}

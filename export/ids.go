package export

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync/atomic"

	"go.opentelemetry.io/otel/trace"
)

// idTag tells apart the ids derived from one message.
type idTag byte

const (
	tagTrace  idTag = 't' // the trace a message starts
	tagClient idTag = 'c' // a request's CLIENT span
	tagServer idTag = 's' // a request's SERVER span
	tagNotify idTag = 'n' // a notification's PRODUCER span
)

// ids derives trace and span ids from a capture's identity and sequence numbers.
type ids struct{ source [32]byte }

func newIDs(source string) ids { return ids{sha256.Sum256([]byte(source))} }

func (d ids) sum(tag idTag, key string, seq uint64) [32]byte {
	h := sha256.New()
	h.Write(d.source[:])
	var b [9]byte
	b[0] = byte(tag)
	binary.BigEndian.PutUint64(b[1:], seq)
	h.Write(b[:])
	h.Write([]byte(key))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// trace returns the id of the trace message seq starts.
func (d ids) trace(seq uint64) trace.TraceID {
	s := d.sum(tagTrace, "", seq)
	var id trace.TraceID
	copy(id[:], s[:])
	return id
}

// span returns the id of message seq's span of kind tag.
func (d ids) span(tag idTag, seq uint64) trace.SpanID {
	s := d.sum(tag, "", seq)
	var id trace.SpanID
	copy(id[:], s[:])
	if !id.IsValid() {
		id[7] = 1 // all zeros is invalid; 2^-64
	}
	return id
}

type idsKey struct{}

// presetIDs are the ids the next span started with this context gets.
type presetIDs struct {
	trace trace.TraceID
	span  trace.SpanID
}

func withIDs(ctx context.Context, tid trace.TraceID, sid trace.SpanID) context.Context {
	return context.WithValue(ctx, idsKey{}, presetIDs{tid, sid})
}

// idGenerator hands the SDK the ids put in the context by withIDs. A span
// started without them (none is) gets ids from a counter, never random ones.
type idGenerator struct{ n atomic.Uint64 }

func (g *idGenerator) NewIDs(ctx context.Context) (trace.TraceID, trace.SpanID) {
	if p, ok := ctx.Value(idsKey{}).(presetIDs); ok {
		return p.trace, p.span
	}
	n := g.n.Add(1)
	d := newIDs("unnamed")
	return d.trace(n), d.span(tagClient, n)
}

func (g *idGenerator) NewSpanID(ctx context.Context, _ trace.TraceID) trace.SpanID {
	if p, ok := ctx.Value(idsKey{}).(presetIDs); ok {
		return p.span
	}
	return newIDs("unnamed").span(tagClient, g.n.Add(1))
}

package decode

import (
	"errors"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// part is one step of a GENERATED multipart sequence.
type part struct {
	conn       int // connection 0 or 1
	ch         capfile.Channel
	id         int32  // qb id
	k          uint16 // part id
	flags      Flags  // multipart bits (none: a single message)
	text       string // payload text; the NUL is added
	noNUL      bool
	cut        int  // bytes the capture lost at the end of the part
	disconnect bool // instead of a part, connection conn goes away
}

// outcome is one message the sequence must yield, in order.
type outcome struct {
	err       string // substring of the error, "" for a good message
	qbID      int32
	parts     int
	text      string // reassembled XML of a good message
	truncated bool
}

const (
	mp    = pcmk.FlagMultipart
	mpEnd = pcmk.FlagMultipart | pcmk.FlagMultipartEnd
)

func partRecords(steps []part) []*capfile.Record {
	var recs []*capfile.Record
	for i, s := range steps {
		conn := []string{"qb-567-1-20-aaaaaa", "qb-567-2-21-bbbbbb"}[s.conn]
		var r *capfile.Record
		if s.disconnect {
			r = &capfile.Record{Kind: capfile.KindDisconnect, Conn: conn, Service: "cib_rw"}
		} else {
			payload := []byte(s.text)
			if !s.noNUL {
				payload = append(payload, 0)
			}
			ch := s.ch
			if ch == 0 {
				ch = capfile.ChannelResponse
			}
			r = msgRec("cib_rw", ch, envelopeB(s.id, payload, pcmk.FlagServerFree|s.flags, s.k))
			r.Conn = conn
			if s.cut > 0 {
				r.Data = r.Data[:len(r.Data)-s.cut]
				r.Flags |= capfile.FlagTruncated
			}
		}
		r.Seq, r.Packet = uint64(i+1), i+1
		recs = append(recs, r)
	}
	return recs
}

// TestGeneratedMultipart runs part sequences, good and broken, through the
// reassembler: a broken sequence yields one error naming the connection
// and qb id, and decoding goes on.
func TestGeneratedMultipart(t *testing.T) {
	for _, tc := range []struct {
		desc  string
		limit int
		steps []part
		want  []outcome
	}{
		{desc: "three parts", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x a`}, {id: 5, k: 1, flags: mp, text: `="1"`}, {id: 5, k: 2, flags: mpEnd, text: `/>`},
		}, want: []outcome{{qbID: 5, parts: 3, text: `<x a="1"/>`}}},
		{desc: "exact multiple: final part holds only the NUL", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x/>`}, {id: 5, k: 1, flags: mpEnd, text: ``},
		}, want: []outcome{{qbID: 5, parts: 2, text: `<x/>`}}},
		{desc: "interleaved across connections", steps: []part{
			{conn: 0, id: 5, k: 0, flags: mp, text: `<x`}, {conn: 1, id: 5, k: 0, flags: mp, text: `<y`},
			{conn: 0, id: 5, k: 1, flags: mpEnd, text: `/>`}, {conn: 1, id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{qbID: 5, parts: 2, text: `<x/>`}, {qbID: 5, parts: 2, text: `<y/>`}}},
		{desc: "request and response channels of one connection interleave", steps: []part{
			{ch: capfile.ChannelRequest, id: 5, k: 0, flags: mp, text: `<x`},
			{ch: capfile.ChannelResponse, id: 4, text: `<r/>`},
			{ch: capfile.ChannelRequest, id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{qbID: 4, parts: 1, text: `<r/>`}, {qbID: 5, parts: 2, text: `<x/>`}}},
		{desc: "truncated part: text up to the cut, no error", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x a`}, {id: 5, k: 1, flags: mp, text: `="1"`, cut: 3}, {id: 5, k: 2, flags: mpEnd, text: `/>`},
		}, want: []outcome{{qbID: 5, parts: 3, text: `<x a="`, truncated: true}}},
		{desc: "middle part missing", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`}, {id: 5, k: 2, flags: mpEnd, text: `/>`}, {id: 6, text: `<ok/>`},
		}, want: []outcome{{err: "part 1 missing: part 2 arrived", qbID: 5, parts: 2}, {qbID: 6, parts: 1, text: `<ok/>`}}},
		{desc: "part duplicated", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`}, {id: 5, k: 1, flags: mp, text: ` `}, {id: 5, k: 1, flags: mp, text: ` `},
			{id: 5, k: 2, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "part 1 duplicated", qbID: 5, parts: 4}}},
		{desc: "part out of order", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`}, {id: 5, k: 1, flags: mp, text: ` `}, {id: 5, k: 2, flags: mp, text: ` `},
			{id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "part 1 out of order after part 2", qbID: 5, parts: 4}}},
		{desc: "final part missing when the next message starts", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`}, {id: 5, k: 1, flags: mp, text: ` `},
			{id: 6, k: 0, flags: mp, text: `<y`}, {id: 6, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "part 2 missing: qb id 6 part 0 arrived", qbID: 5, parts: 2}, {qbID: 6, parts: 2, text: `<y/>`}}},
		{desc: "single message in the middle of a sequence", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`}, {id: 6, text: `<y/>`}, {id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{
			{err: "part 1 missing: single message qb id 6 arrived", qbID: 5, parts: 1},
			{qbID: 6, parts: 1, text: `<y/>`},
			{err: "part 0 missing: part 1 arrived first", qbID: 5, parts: 1},
		}},
		{desc: "part 0 missing", steps: []part{
			{id: 5, k: 1, flags: mp, text: `<x`}, {id: 5, k: 2, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "part 0 missing: part 1 arrived first", qbID: 5, parts: 2}}},
		{desc: "final part with part id 0", steps: []part{
			{id: 5, k: 0, flags: mpEnd, text: `<x/>`},
		}, want: []outcome{{err: "final part has part id 0", qbID: 5, parts: 1}}},
		{desc: "multipart_end without multipart", steps: []part{
			{id: 5, k: 1, flags: pcmk.FlagMultipartEnd, text: `<x/>`},
		}, want: []outcome{{err: "multipart_end without multipart", qbID: 5, parts: 1}}},
		{desc: "part without its NUL", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`, noNUL: true}, {id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "part 0 does not end in NUL", qbID: 5, parts: 2}}},
		{desc: "capture ends inside a message", steps: []part{
			{id: 5, k: 0, flags: mp, text: `<x`},
		}, want: []outcome{{err: "final part missing: capture ended after part 0", qbID: 5, parts: 1}}},
		{desc: "connection goes away inside a message", steps: []part{
			{conn: 0, id: 5, k: 0, flags: mp, text: `<x`}, {conn: 1, id: 5, k: 0, flags: mp, text: `<y`},
			{conn: 0, disconnect: true}, {conn: 1, id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "final part missing: disconnected after part 0", qbID: 5, parts: 1}, {qbID: 5, parts: 2, text: `<y/>`}}},
		{desc: "message over the size limit", limit: 6, steps: []part{
			{id: 5, k: 0, flags: mp, text: `<xxxx`}, {id: 5, k: 1, flags: mpEnd, text: `/>`},
		}, want: []outcome{{err: "multipart text over the 6-byte limit", qbID: 5, parts: 2}}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			msgs, st := decodeAll(t, partRecords(tc.steps), Options{MaxDecompressed: tc.limit})
			if len(msgs) != len(tc.want) {
				for _, m := range msgs {
					t.Logf("seq %d qb id %d parts %d: %v", m.Seq, m.QBID, m.Parts, m.Err)
				}
				t.Fatalf("%d messages, want %d", len(msgs), len(tc.want))
			}
			for i, w := range tc.want {
				m := msgs[i]
				if m.QBID != w.qbID || m.Parts != w.parts {
					t.Errorf("message %d: qb id %d, %d parts; want qb id %d, %d parts", i, m.QBID, m.Parts, w.qbID, w.parts)
				}
				if m.Truncated != w.truncated {
					t.Errorf("message %d: truncated %v", i, m.Truncated)
				}
				if w.err == "" {
					if m.Err != nil || string(m.XML) != w.text {
						t.Errorf("message %d: %q, %v; want %q", i, m.XML, m.Err, w.text)
					}
					continue
				}
				var fe *FormatError
				if !errors.As(m.Err, &fe) || !strings.Contains(fe.Error(), w.err) {
					t.Errorf("message %d: error %v, want %q", i, m.Err, w.err)
					continue
				}
				if !errors.Is(fe, ErrMultipart) && !errors.Is(fe, ErrTooLarge) {
					t.Errorf("message %d: %v wraps neither ErrMultipart nor ErrTooLarge", i, fe)
				}
				if fe.Conn == "" || fe.QBID != w.qbID {
					t.Errorf("message %d: error names conn %q qb id %d", i, fe.Conn, fe.QBID)
				}
			}
			if st.Messages != uint64(len(tc.want)) {
				t.Errorf("Stats.Messages %d", st.Messages)
			}
		})
	}
}

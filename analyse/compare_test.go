package analyse

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// jsonMessage is what the comparison reads of one line of decode's JSON.
type jsonMessage struct {
	Seq          uint64    `json:"seq"`
	Time         time.Time `json:"time"`
	Kind         string    `json:"kind"`
	Lost         *uint32   `json:"lost"`
	Comm         string    `json:"comm"`
	Service      string    `json:"service"`
	ProxiedFor   string    `json:"proxied_for"`
	Node         string    `json:"node"`
	ClientPID    uint32    `json:"client_pid"`
	Channel      string    `json:"channel"`
	Role         string    `json:"role"`
	RX           bool      `json:"rx"`
	QBID         int32     `json:"qb_id"`
	Size         uint64    `json:"size"`
	Op           string    `json:"op"`
	RC           string    `json:"rc"`
	ExpectsReply bool      `json:"expects_reply"`
	ReplyTo      *uint64   `json:"reply_to"`
	LatencyNS    *int64    `json:"latency_ns"`
}

// wantOp is the ops row computed the plain way: every latency in a slice.
type wantOp struct {
	requests, answered, unanswered, noRequest, errors uint64
	requestBytes, replyBytes                          uint64
	latencies                                         []time.Duration
}

// TestStatsAgreeWithDecode recomputes the ops and clients tables of every
// regression capture from decode's JSON lines with plain maps and sorted
// slices, and checks the Aggregator's: counts exact, percentiles at most
// 0.1% (the histogram's 3 significant digits) above the sorted slice's
// value of the same rank.
func TestStatsAgreeWithDecode(t *testing.T) {
	for _, path := range captures(t) {
		t.Run(path, func(t *testing.T) {
			msgs := decodeFile(t, path)
			var buf bytes.Buffer
			jf := decode.NewJSONFormatter(&buf)
			for _, m := range msgs {
				if err := jf.Format(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := jf.Close(); err != nil {
				t.Fatal(err)
			}
			var lines []jsonMessage
			sc := bufio.NewScanner(&buf)
			sc.Buffer(nil, 1<<20)
			for sc.Scan() {
				var jm jsonMessage
				if err := json.Unmarshal(sc.Bytes(), &jm); err != nil {
					t.Fatal(err)
				}
				lines = append(lines, jm)
			}
			a := aggregate(msgs)
			checkOps(t, a.Ops(), plainOps(lines))
			checkClients(t, a.Clients(), plainClients(lines))
		})
	}
}

func plainOps(lines []jsonMessage) map[opKey]*wantOp {
	ops := map[opKey]*wantOp{}
	get := func(k opKey) *wantOp {
		if ops[k] == nil {
			ops[k] = &wantOp{}
		}
		return ops[k]
	}
	name := func(l jsonMessage) string {
		op := l.Op
		if op == "" {
			op = "qb_id=" + strconv.Itoa(int(l.QBID))
		}
		if l.ProxiedFor != "" {
			op += " via " + l.ProxiedFor
		}
		return op
	}
	keyOf := map[uint64]opKey{}
	expects := map[uint64]bool{}
	answered := map[uint64]bool{}
	failed := map[uint64]bool{}
	timed := map[uint64]bool{}
	isErr := func(l jsonMessage) bool {
		n, err := strconv.Atoi(l.RC)
		if l.RC == "" || (l.Role == "ack" && n == 112) {
			return false
		}
		return err != nil || n != 0
	}
	for _, l := range lines {
		if l.Kind != "" || l.Lost != nil || l.RX {
			continue
		}
		switch {
		case l.Channel == "request" && l.Role == "request":
			k := opKey{l.Node, l.Service, name(l)}
			o := get(k)
			o.requests++
			o.requestBytes += l.Size
			if l.QBID >= 0 {
				keyOf[l.Seq], expects[l.Seq] = k, l.ExpectsReply
			}
		case l.ReplyTo != nil:
			req := *l.ReplyTo
			k, known := keyOf[req]
			o := get(k)
			o.replyBytes += l.Size
			if isErr(l) && !failed[req] {
				o.errors++
				failed[req] = true
			}
			if known && !answered[req] {
				o.answered++
				answered[req] = true
			}
			finalAck := l.Service != "crmd" && l.Service != "pacemakerd" && l.Service != "pengine"
			if (l.Role == "reply" || (l.Role == "ack" && finalAck)) && !timed[req] {
				o.latencies = append(o.latencies, time.Duration(*l.LatencyNS))
				timed[req] = true
			}
		case l.Channel == "response" && l.QBID >= 0:
			o := get(opKey{l.Node, l.Service, name(l)})
			o.noRequest++
			o.replyBytes += l.Size
			if isErr(l) {
				o.errors++
			}
		}
	}
	for seq, e := range expects {
		if e && !answered[seq] {
			ops[keyOf[seq]].unanswered++
		}
	}
	return ops
}

func checkOps(t *testing.T, got []Op, want map[opKey]*wantOp) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d ops rows, want %d", len(got), len(want))
	}
	for _, g := range got {
		w := want[opKey{g.Node, g.Service, g.Op}]
		if w == nil {
			t.Errorf("%s %s: unexpected row", g.Service, g.Op)
			continue
		}
		gc := [...]uint64{g.Requests, g.Answered, g.Unanswered, g.NoRequest, g.Errors, g.RequestBytes, g.ReplyBytes, g.Latencies}
		wc := [...]uint64{w.requests, w.answered, w.unanswered, w.noRequest, w.errors, w.requestBytes, w.replyBytes, uint64(len(w.latencies))}
		if gc != wc {
			t.Errorf("%s %s: requests, answered, unanswered, no_request, errors, request/reply bytes, latencies = %v, want %v", g.Service, g.Op, gc, wc)
		}
		if len(w.latencies) == 0 {
			continue
		}
		lat := slices.Clone(w.latencies)
		slices.Sort(lat)
		var sum time.Duration
		for _, d := range lat {
			sum += d
		}
		if g.Min != lat[0] || g.Max != lat[len(lat)-1] || g.Sum != sum {
			t.Errorf("%s %s: min, max, sum = %v %v %v, want %v %v %v", g.Service, g.Op, g.Min, g.Max, g.Sum, lat[0], lat[len(lat)-1], sum)
		}
		for _, p := range []struct {
			q   float64
			got time.Duration
		}{{50, g.P50}, {90, g.P90}, {99, g.P99}} {
			// The histogram's rank: q% of the count, rounded to nearest.
			rank := min(max(int(p.q/100*float64(len(lat))+0.5), 1), len(lat))
			v := lat[rank-1]
			if p.got < v || p.got > v+v/1000 {
				t.Errorf("%s %s: p%v = %v, want %v (+0.1%%)", g.Service, g.Op, p.q, p.got, v)
			}
		}
	}
}

func plainClients(lines []jsonMessage) map[clientKey]*Client {
	clients := map[clientKey]*Client{}
	for _, l := range lines {
		if l.Kind != "" || l.Lost != nil || l.RX {
			continue
		}
		k := clientKey{l.Node, l.ClientPID, l.Service}
		c := clients[k]
		if c == nil {
			c = &Client{PID: l.ClientPID, Service: l.Service, First: l.Time}
			clients[k] = c
		}
		c.Last = l.Time
		switch {
		case l.Channel == "request":
			c.Comm = l.Comm
			c.Requests++
			c.BytesOut += l.Size
		case l.Channel == "response" || l.ReplyTo != nil:
			c.Replies++
			c.BytesIn += l.Size
		default:
			c.Events++
			c.BytesIn += l.Size
		}
	}
	return clients
}

func checkClients(t *testing.T, got []Client, want map[clientKey]*Client) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d clients rows, want %d", len(got), len(want))
	}
	for _, g := range got {
		w := want[clientKey{g.Node, g.PID, g.Service}]
		if w == nil {
			t.Errorf("client %d %s: unexpected row", g.PID, g.Service)
			continue
		}
		if g.Comm != w.Comm || g.Requests != w.Requests || g.Replies != w.Replies || g.Events != w.Events ||
			g.BytesOut != w.BytesOut || g.BytesIn != w.BytesIn || !g.First.Equal(w.First) || !g.Last.Equal(w.Last) {
			t.Errorf("client %d %s:\n got %+v\nwant %+v", g.PID, g.Service, g, *w)
		}
	}
}

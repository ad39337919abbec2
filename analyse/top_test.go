package analyse

import (
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// TestTopIntervals checks that each tick reports the interval's own requests,
// bytes and latencies, while totals, in-flight requests and errors accumulate.
func TestTopIntervals(t *testing.T) {
	var c conv
	// First second: 4 queries answered in 1 ms, one failing; one left waiting.
	for i := range 4 {
		q := c.request(time.Duration(i)*100*time.Millisecond, "cib_query", true, 100)
		rc := "0"
		if i == 3 {
			rc = "-6"
		}
		c.reply(time.Duration(i)*100*time.Millisecond+time.Millisecond, q, rc, 400)
	}
	open := c.request(500*time.Millisecond, "cib_query", true, 100)
	first := len(c.msgs)
	// Second second: 2 queries answered in 10 ms, and the waiting one at last (1 s).
	for i := range 2 {
		q := c.request(time.Second+time.Duration(i)*100*time.Millisecond, "cib_query", true, 100)
		c.reply(time.Second+time.Duration(i)*100*time.Millisecond+10*time.Millisecond, q, "0", 400)
	}
	c.reply(1500*time.Millisecond, open, "0", 400)

	top := NewTop(Config{}, t0)
	for _, m := range c.msgs[:first] {
		top.Add(m)
	}
	top.Add(&decode.Message{Kind: decode.KindLoss, Lost: 3, Time: t0.Add(time.Second / 2)})
	f := top.Tick(t0.Add(time.Second))
	if f.Width != time.Second || f.Messages != 9 || f.Bytes != 5*100+4*400 || f.Lost != 3 || f.TotalLost != 3 {
		t.Errorf("first header: %+v", f)
	}
	if len(f.Ops) != 1 {
		t.Fatalf("first ops: %+v", f.Ops)
	}
	op := f.Ops[0]
	if op.Service != "cib_rw" || op.Op != "cib_query" || op.Requests != 5 || op.Total != 5 || op.InFlight != 1 ||
		op.Errors != 1 || op.Latencies != 4 || op.Bytes != 5*100+4*400 {
		t.Errorf("first ops row: %+v", op)
	}
	if !near(op.P50, time.Millisecond) || !near(op.P99, time.Millisecond) {
		t.Errorf("first percentiles: %v %v", op.P50, op.P99)
	}
	if len(op.History) != 1 || op.History[0] != 5 {
		t.Errorf("first history: %v", op.History)
	}
	if len(f.Clients) != 1 || f.Clients[0].Requests != 5 || f.Clients[0].Comm != "cibadmin" {
		t.Errorf("first clients: %+v", f.Clients)
	}

	for _, m := range c.msgs[first:] {
		top.Add(m)
	}
	f = top.Tick(t0.Add(3 * time.Second)) // a two-second interval
	op = f.Ops[0]
	if f.Width != 2*time.Second || f.Messages != 5 || f.Lost != 0 || f.TotalLost != 3 || f.TotalMessages != 14 {
		t.Errorf("second header: %+v", f)
	}
	if op.Requests != 2 || op.Total != 7 || op.InFlight != 0 || op.Errors != 1 || op.Latencies != 3 {
		t.Errorf("second ops row: %+v", op)
	}
	// The interval's latencies only: 10, 10 and 1000 ms.
	if !near(op.P50, 10*time.Millisecond) || !near(op.P99, time.Second) {
		t.Errorf("second percentiles: %v %v", op.P50, op.P99)
	}
	if len(op.History) != 2 || op.History[1] != 1 || f.PerSecond(op.Requests) != 1 {
		t.Errorf("second history: %v", op.History)
	}

	// The sparkline keeps the last TopHistory intervals.
	for i := range 12 {
		f = top.Tick(t0.Add(time.Duration(4+i) * time.Second))
	}
	if h := f.Ops[0].History; len(h) != TopHistory || h[len(h)-1] != 0 {
		t.Errorf("history after 12 idle ticks: %v", h)
	}
}

func near(d, want time.Duration) bool { return d >= want*99/100 && d <= want*101/100 }

// TestTopBounded checks that idle clients and closed connections leave the tables.
func TestTopBounded(t *testing.T) {
	top := NewTop(Config{}, t0)
	top.Add(&decode.Message{Kind: decode.KindConnect, Conn: "c1", Service: "cib_ro", ClientPID: 7})
	top.Add(&decode.Message{Kind: decode.KindMessage, Conn: "c1", Service: "cib_ro", ClientPID: 7, Time: t0,
		Channel: capfile.ChannelEvent, Size: 10})
	top.Add(&decode.Message{Kind: decode.KindMessage, Conn: "c1", Service: "cib_ro", ClientPID: 7, Time: t0,
		Channel: capfile.ChannelEvent, Size: 10})
	top.Add(&decode.Message{Kind: decode.KindMessage, Conn: "c1", Service: "cib_ro", ClientPID: 7, Time: t0,
		Channel: capfile.ChannelEvent, Size: 10, RX: true})
	f := top.Tick(t0.Add(time.Second))
	if len(f.Connections) != 1 || f.Connections[0].Backlog != 1 || f.Connections[0].Max != 2 || f.IPCLimit != 500 {
		t.Errorf("connections: %+v", f.Connections)
	}
	if len(f.Clients) != 1 {
		t.Errorf("clients: %+v", f.Clients)
	}
	top.Add(&decode.Message{Kind: decode.KindDisconnect, Conn: "c1", Service: "cib_ro", ClientPID: 7})
	f = top.Tick(t0.Add(2 * time.Second))
	if len(f.Connections) != 0 || len(top.agg.conns) != 0 {
		t.Errorf("connections after disconnect: %+v", f.Connections)
	}
	f = top.Tick(t0.Add(time.Second + topIdle + time.Second))
	if len(f.Clients) != 0 || len(top.agg.clients) != 0 || len(top.clients) != 0 {
		t.Errorf("clients after idling: %+v", f.Clients)
	}
}

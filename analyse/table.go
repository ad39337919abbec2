package analyse

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Column is one column of a [Table].
type Column struct {
	Key  string // the JSON key and CSV header
	Head string // the text header
}

// Table is one table of rows, ready to print. A cell is a string, an
// integer, a float64, a bool, a time.Time, a time.Duration, or nil for
// no value.
type Table struct {
	Name    string // the JSON "table" value
	Title   string // a line of text above the table
	Columns []Column
	Rows    [][]any
}

// TableNames are the tables Tables can select, in their order. "sizes"
// selects the tables sizes, size_buckets and largest; "fanout" the tables
// fanout and fanout_total.
var TableNames = []string{"ops", "clients", "connections", "rate", "sizes", "fanout", "loss"}

// Tables returns the selected tables (all when names is empty), in the
// order of TableNames.
func (a *Aggregator) Tables(names ...string) ([]*Table, error) {
	for _, n := range names {
		if !slices.Contains(TableNames, n) {
			return nil, fmt.Errorf("unknown table %q (%s)", n, strings.Join(TableNames, ", "))
		}
	}
	var out []*Table
	for _, n := range TableNames {
		if len(names) > 0 && !slices.Contains(names, n) {
			continue
		}
		switch n {
		case "ops":
			out = append(out, a.opsTable())
		case "clients":
			out = append(out, a.clientsTable())
		case "connections":
			out = append(out, a.connectionsTable())
		case "rate":
			out = append(out, a.rateTable())
		case "sizes":
			out = append(out, a.sizesTable(), a.bucketsTable(), a.largestTable())
		case "fanout":
			out = append(out, a.fanoutTable(), a.fanoutTotalTable())
		case "loss":
			out = append(out, a.lossTable())
		}
	}
	return out, nil
}

func cols(spec ...string) []Column {
	c := make([]Column, 0, len(spec)/2)
	for i := 0; i+1 < len(spec); i += 2 {
		c = append(c, Column{Key: spec[i], Head: spec[i+1]})
	}
	return c
}

// timeOrNil leaves out a time that is not there.
func timeOrNil(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (a *Aggregator) opsTable() *Table {
	t := &Table{Name: "ops", Title: "ops: response time per service and operation",
		Columns: cols("service", "SERVICE", "op", "OP", "requests", "REQ", "answered", "ANS",
			"unanswered", "UNANS", "no_request", "NOREQ", "errors", "ERR", "latencies", "N",
			"min_ns", "MIN", "p50_ns", "P50", "p90_ns", "P90", "p99_ns", "P99", "max_ns", "MAX",
			"sum_ns", "SUM", "request_bytes", "REQ_BYTES", "reply_bytes", "REPLY_BYTES")}
	ops := a.Ops()
	for _, r := range ops {
		lat := []any{nil, nil, nil, nil, nil, nil}
		if r.Latencies > 0 {
			lat = []any{r.Min, r.P50, r.P90, r.P99, r.Max, r.Sum}
		}
		row := []any{r.Service, r.Op, r.Requests, r.Answered, r.Unanswered, r.NoRequest, r.Errors, r.Latencies}
		row = append(row, lat...)
		t.Rows = append(t.Rows, append(row, r.RequestBytes, r.ReplyBytes))
	}
	return a.withNode(t, func(i int) string { return ops[i].Node })
}

func (a *Aggregator) clientsTable() *Table {
	t := &Table{Name: "clients", Title: "clients: conversations per client process and service",
		Columns: cols("pid", "PID", "comm", "COMM", "service", "SERVICE", "requests", "REQ",
			"replies", "REPLIES", "events", "EVENTS", "bytes_out", "BYTES_OUT", "bytes_in", "BYTES_IN",
			"first", "FIRST", "last", "LAST", "rate", "MSG/S")}
	clients := a.Clients()
	for _, c := range clients {
		t.Rows = append(t.Rows, []any{c.PID, c.Comm, c.Service, c.Requests, c.Replies, c.Events,
			c.BytesOut, c.BytesIn, timeOrNil(c.First), timeOrNil(c.Last), c.Rate()})
	}
	return a.withNode(t, func(i int) string { return clients[i].Node })
}

func (a *Aggregator) connectionsTable() *Table {
	t := &Table{Name: "connections",
		Title: fmt.Sprintf("connections: events sent, and unread events where the receive side was recorded (limit %d)", a.cfg.IPCLimit),
		Columns: cols("conn", "CONN", "service", "SERVICE", "client_pid", "CLIENT", "comm", "COMM",
			"server_pid", "SERVER", "events", "EVENTS", "rx", "RX", "read", "READ",
			"max_backlog", "MAX_BACKLOG", "max_backlog_time", "AT", "over_limit", "OVER_LIMIT", "over_limit_time", "SINCE")}
	for _, c := range a.Connections() {
		row := []any{c.Conn, c.Service, c.ClientPID, c.Comm, c.ServerPID, c.Events, c.RX}
		if c.RX {
			row = append(row, c.Read, c.MaxBacklog, timeOrNil(c.MaxAt), !c.OverLimit.IsZero(), timeOrNil(c.OverLimit))
		} else {
			row = append(row, nil, nil, nil, nil, nil)
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

func (a *Aggregator) rateTable() *Table {
	t := &Table{Name: "rate", Title: fmt.Sprintf("rate: messages per %v and service", a.rate.width),
		Columns: cols("time", "TIME", "interval_ns", "INTERVAL", "service", "SERVICE",
			"messages", "MSGS", "bytes", "BYTES", "in_flight", "IN_FLIGHT")}
	for _, r := range a.Rates() {
		t.Rows = append(t.Rows, []any{r.Time, r.Width, r.Service, r.Messages, r.Bytes, r.InFlight})
	}
	return t
}

func (a *Aggregator) sizesTable() *Table {
	t := &Table{Name: "sizes", Title: fmt.Sprintf("sizes: messages per service (over_buffer: larger than %d bytes)", BufferSize),
		Columns: cols("service", "SERVICE", "messages", "MSGS", "bytes", "BYTES", "max_bytes", "MAX",
			"over_buffer", "OVER_BUFFER", "compressed", "COMPRESSED", "multipart", "MULTIPART")}
	for _, s := range a.Sizes() {
		t.Rows = append(t.Rows, []any{s.Service, s.Messages, s.Bytes, s.Max, s.OverBuffer, s.Compressed, s.Multipart})
	}
	return t
}

func (a *Aggregator) bucketsTable() *Table {
	t := &Table{Name: "size_buckets", Title: "size_buckets: messages per service with from_bytes <= size < to_bytes",
		Columns: cols("service", "SERVICE", "from_bytes", "FROM", "to_bytes", "TO", "messages", "MSGS")}
	for _, b := range a.SizeBuckets() {
		t.Rows = append(t.Rows, []any{b.Service, b.From, b.To, b.Messages})
	}
	return t
}

func (a *Aggregator) largestTable() *Table {
	t := &Table{Name: "largest", Title: "largest: the largest messages",
		Columns: cols("seq", "SEQ", "time", "TIME", "service", "SERVICE", "op", "OP", "size", "SIZE")}
	for _, l := range a.LargestMessages() {
		t.Rows = append(t.Rows, []any{l.Seq, timeOrNil(l.Time), l.Service, l.Op, l.Size})
	}
	return t
}

func (a *Aggregator) fanoutTable() *Table {
	t := &Table{Name: "fanout", Title: "fanout: cib_diff_notify events per CIB change (by the version it produced)",
		Columns: cols("version", "VERSION", "cib_op", "CIB_OP", "first_seq", "FIRST_SEQ", "time", "TIME",
			"notifications", "NOTIFICATIONS", "bytes", "BYTES")}
	for _, f := range a.Fanouts() {
		t.Rows = append(t.Rows, []any{f.Version, f.CIBOp, f.FirstSeq, timeOrNil(f.Time), f.Notifications, f.Bytes})
	}
	return t
}

func (a *Aggregator) fanoutTotalTable() *Table {
	f := a.FanoutTotals()
	return &Table{Name: "fanout_total", Title: "fanout_total: over every CIB change",
		Columns: cols("changes", "CHANGES", "notifications", "NOTIFICATIONS", "bytes", "BYTES",
			"max_notifications", "MAX_PER_CHANGE"),
		Rows: [][]any{{f.Changes, f.Notifications, f.Bytes, f.MaxNotifications}}}
}

func (a *Aggregator) lossTable() *Table {
	t := &Table{Name: "loss", Title: "loss: what the capture misses, per cause",
		Columns: cols("cause", "CAUSE", "records", "RECORDS", "messages", "MESSAGES")}
	for _, l := range a.Losses() {
		t.Rows = append(t.Rows, []any{l.Cause, l.Records, l.Messages})
	}
	return t
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/pcmk-trace/pcmk-trace/analyse"
)

// topJSONHeader is the first JSON line of an interval.
type topJSONHeader struct {
	Time         time.Time `json:"time"`
	IntervalNS   int64     `json:"interval_ns"`
	Messages     uint64    `json:"messages"`
	Bytes        uint64    `json:"bytes"`
	MessagesPerS float64   `json:"messages_per_s"`
	BytesPerS    float64   `json:"bytes_per_s"`
	Lost         uint64    `json:"lost"`
	TotalLost    uint64    `json:"total_lost"`
}

// topJSONOp is one operation's JSON line.
type topJSONOp struct {
	Time         time.Time `json:"time"`
	Service      string    `json:"service"`
	Op           string    `json:"op"`
	Requests     uint64    `json:"requests"`
	RequestsPerS float64   `json:"requests_per_s"`
	Total        uint64    `json:"total"`
	BytesPerS    float64   `json:"bytes_per_s"`
	P50          int64     `json:"p50_ns"`
	P99          int64     `json:"p99_ns"`
	InFlight     uint64    `json:"in_flight"`
	Errors       uint64    `json:"errors"`
}

// topJSONConn is one connection's backlog as a JSON line (--rx).
type topJSONConn struct {
	Time      time.Time `json:"time"`
	Service   string    `json:"service"`
	Conn      string    `json:"conn"`
	ClientPID uint32    `json:"client_pid"`
	Comm      string    `json:"comm,omitempty"`
	Backlog   uint64    `json:"backlog"`
	Max       uint64    `json:"max_backlog"`
	Limit     int       `json:"limit"`
}

// runTopBatch prints one block per interval until the source ends, ctx does or --count blocks were printed.
func runTopBatch(ctx context.Context, o *topOptions, src *topSource, stdout io.Writer) error {
	_, stop := src.launch(ctx)
	defer stop()
	out := bufio.NewWriter(stdout)
	enc := json.NewEncoder(out)
	var n uint64
	for f := range src.frames {
		var err error
		if o.format == "json" {
			err = writeTopJSON(enc, &f)
		} else {
			err = writeTopText(out, &f, src)
		}
		if err == nil {
			err = out.Flush()
		}
		if err != nil {
			return fmt.Errorf("top: %w", err)
		}
		if n++; o.rec.count > 0 && n >= o.rec.count {
			break
		}
	}
	return src.failed()
}

func writeTopJSON(enc *json.Encoder, f *analyse.TopFrame) error {
	err := enc.Encode(topJSONHeader{Time: f.Time, IntervalNS: int64(f.Width), Messages: f.Messages, Bytes: f.Bytes,
		MessagesPerS: f.PerSecond(f.Messages), BytesPerS: f.PerSecond(f.Bytes), Lost: f.Lost, TotalLost: f.TotalLost})
	for _, r := range f.Ops {
		if err != nil {
			return err
		}
		err = enc.Encode(topJSONOp{Time: f.Time, Service: r.Service, Op: r.Op, Requests: r.Requests,
			RequestsPerS: f.PerSecond(r.Requests), Total: r.Total, BytesPerS: f.PerSecond(r.Bytes),
			P50: int64(r.P50), P99: int64(r.P99), InFlight: r.InFlight, Errors: r.Errors})
	}
	for _, c := range f.Connections {
		if err != nil {
			return err
		}
		err = enc.Encode(topJSONConn{Time: f.Time, Service: c.Service, Conn: c.Conn, ClientPID: c.ClientPID,
			Comm: c.Comm, Backlog: c.Backlog, Max: c.Max, Limit: f.IPCLimit})
	}
	return err
}

func writeTopText(w *bufio.Writer, f *analyse.TopFrame, src *topSource) error {
	fmt.Fprintf(w, "%s  %s\n", f.Time.Format("15:04:05"), topHeader(f, src))
	rows := opRows(f)
	sortRows(rows, opColumns, 2, false)
	widths := columnWidths(opColumns, rows)
	names := make([]string, len(opColumns))
	for i, c := range opColumns {
		names[i] = c.name
	}
	fmt.Fprintln(w, formatCells(opColumns, widths, names))
	for _, r := range rows {
		fmt.Fprintln(w, formatCells(opColumns, widths, r.cells))
	}
	if len(f.Connections) > 0 {
		fmt.Fprintf(w, "%-40s %-10s %8s %8s  (limit %d)\n", "CONNECTION", "SERVICE", "BACKLOG", "MAX", f.IPCLimit)
		for _, c := range f.Connections {
			fmt.Fprintf(w, "%-40s %-10s %8d %8d\n", c.Conn, c.Service, c.Backlog, c.Max)
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

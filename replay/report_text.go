package replay

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// TextOptions tune [Report.WriteText].
type TextOptions struct {
	Verbose  bool // list every request, not only the ones that did not match
	MaxDiffs int  // differences shown per request; 0 means 20, -1 all
	MaxValue int  // characters shown of a value or element; 0 means 300, -1 all
}

// WriteText writes the report for people: a summary line, a table per operation
// (sent, answered, matched, diverged, failed, refused, recorded and replayed latency),
// then each divergence with its differences and each failure with its error.
func (r *Report) WriteText(w io.Writer, o TextOptions) error {
	if o.MaxDiffs == 0 {
		o.MaxDiffs = 20
	}
	if o.MaxValue == 0 {
		o.MaxValue = 300
	}
	b := &strings.Builder{}
	loops := "1 loop"
	if r.Loops != 1 {
		loops = fmt.Sprintf("%d loops", r.Loops)
	}
	fmt.Fprintf(b, "replay: %s on %s in %s (%s)", plural(r.Totals.Requests, "request"),
		plural(r.Conversations, "connection"), fmtLatency(r.Elapsed), loops)
	var left []string
	if n := r.Skipped.Daemons; n > 0 {
		left = append(left, fmt.Sprintf("%s of daemons (--all-clients)%s", plural(n, "connection"), proxiedNote(r.Skipped.Proxied)))
	}
	if n := r.Skipped.NotPacemaker; n > 0 {
		left = append(left, fmt.Sprintf("%d of other services", n))
	}
	if n := r.Skipped.Filtered; n > 0 {
		left = append(left, fmt.Sprintf("%d filtered", n))
	}
	if len(left) > 0 {
		fmt.Fprintf(b, "; left out: %s", strings.Join(left, ", "))
	}
	b.WriteString("\n\n")

	tw := tabwriter.NewWriter(b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "service\toperation\tclass\tsent\tanswered\tmatched\tdiverged\tfailed\trefused\trecorded p50\tp99\treplayed p50\tp99")
	for _, op := range r.Ops {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", op.Service, op.Op, op.Class, countCols(op.Counts),
			latCols(op.Recorded), latCols(op.Replayed))
	}
	fmt.Fprintf(tw, "total\t\t\t%s\n", countCols(r.Totals))
	if err := tw.Flush(); err != nil {
		return err
	}
	if u := r.Totals.Unchecked; u > 0 {
		fmt.Fprintf(b, "\n%s answered but not compared: the capture holds no whole reply\n", plural(u, "request"))
	}
	// With several loops, a request that ends the same way each time is shown once.
	seen := map[string]int{}
	for _, res := range r.Results {
		seen[resultKey(&res)]++
	}
	shown := map[string]bool{}
	first, prevDetail := true, false
	for _, res := range r.Results {
		show := res.Outcome == Diverged || res.Outcome == Failed || o.Verbose
		k := resultKey(&res)
		if !show || shown[k] {
			continue
		}
		shown[k] = true
		// One line per request; a blank line around those with details.
		detail := res.Err != nil || len(res.Diffs) > 0
		if first || detail || prevDetail {
			b.WriteString("\n")
		}
		first, prevDetail = false, detail
		fmt.Fprintf(b, "%s: %s %s from %s (connection %s", res.Outcome, res.Service, res.Op, res.Comm, res.Conn)
		if res.Packet > 0 {
			fmt.Fprintf(b, ", packet %d", res.Packet)
		}
		fmt.Fprintf(b, ", +%.3fs", res.Offset.Seconds())
		switch n := seen[k]; {
		case r.Loops > 1 && n == r.Loops:
			b.WriteString(", every loop")
		case r.Loops > 1 && n > 1:
			fmt.Fprintf(b, ", %d loops from loop %d", n, res.Loop+1)
		case r.Loops > 1:
			fmt.Fprintf(b, ", loop %d", res.Loop+1)
		}
		b.WriteString(")\n")
		if res.Err != nil {
			fmt.Fprintf(b, "  %v\n", res.Err)
		}
		for i, d := range res.Diffs {
			if o.MaxDiffs >= 0 && i == o.MaxDiffs {
				fmt.Fprintf(b, "  ... %d more differences\n", len(res.Diffs)-i)
				break
			}
			d.Recorded, d.Live = clip(d.Recorded, o.MaxValue), clip(d.Live, o.MaxValue)
			fmt.Fprintf(b, "  %s: %s\n", d.Reply, d)
		}
	}
	if n := r.Totals.Refused; n > 0 {
		fmt.Fprintf(b, "\nrefused %s (not sent); --allow-writes sends them\n", plural(n, "write"))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func countCols(c Counts) string {
	return fmt.Sprintf("%d\t%d\t%d\t%d\t%d\t%d", c.Sent, c.Answered, c.Matched, c.Diverged, c.Failed, c.Refused)
}

func latCols(p Percentiles) string {
	if p.N == 0 {
		return "-\t-"
	}
	return fmt.Sprintf("%s\t%s", fmtLatency(p.P50), fmtLatency(p.P99))
}

// fmtLatency prints a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%.0fµs", float64(d)/1e3)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.2fs", d.Seconds())
}

func clip(s string, n int) string {
	if n < 0 || len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// resultKey identifies a request and how it ended, across loops.
func resultKey(res *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s\x00%d\x00%s\x00%v", res.Conn, res.Seq, res.Outcome, res.Err)
	for _, d := range res.Diffs {
		fmt.Fprintf(&b, "\x00%s\x00%s\x00%s\x00%s\x00%s", d.Reply, d.Kind, d.Path, d.Recorded, d.Live)
	}
	return b.String()
}

// proxiedNote says how many left-out daemon connections relay remote nodes' clients.
func proxiedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", %d of them the controller relaying remote nodes' clients", n)
}

package analyse

import (
	"bytes"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// reportSections are the ids of the report's sections, in order.
var reportSections = []string{"ops", "clients", "connections", "rate", "sizes", "fanout", "loss", "flow"}

// reportDoc is what the structural test reads out of a report.
type reportDoc struct {
	sections []string       // section ids
	toc      []string       // table of contents targets
	rows     map[string]int // body rows per data-table
	charts   map[string]bool
	svgs     int
	flowSVG  bool
	scripts  int
	facts    map[string]string
}

func parseReport(t *testing.T, page []byte) reportDoc {
	t.Helper()
	root, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatalf("parsing the report: %v", err)
	}
	d := reportDoc{rows: map[string]int{}, charts: map[string]bool{}, facts: map[string]string{}}
	attr := func(n *html.Node, key string) (string, bool) {
		for _, a := range n.Attr {
			if a.Key == key {
				return a.Val, true
			}
		}
		return "", false
	}
	remote := regexp.MustCompile(`(?i)^\s*(https?:|//|ftp:)`)
	var lastDT string
	var walk func(n *html.Node, table string, inFlow bool)
	walk = func(n *html.Node, table string, inFlow bool) {
		if n.Type == html.ElementNode {
			for _, key := range []string{"src", "href", "xlink:href", "action", "poster", "data"} {
				if v, ok := attr(n, key); ok && remote.MatchString(v) {
					t.Errorf("<%s %s=%q> points outside the page", n.Data, key, v)
				}
			}
			if n.Data == "script" {
				d.scripts++
				if _, ok := attr(n, "src"); ok {
					t.Errorf("<script src> loads a script")
				}
			}
			if n.Data == "link" {
				t.Errorf("<link> in a self-contained page: %v", n.Attr)
			}
			if n.Data == "iframe" || n.Data == "img" || n.Data == "object" || n.Data == "embed" {
				t.Errorf("<%s> in the page", n.Data)
			}
			if n.Data == "style" && n.FirstChild != nil {
				css := n.FirstChild.Data
				if strings.Contains(css, "@import") {
					t.Errorf("@import in CSS")
				}
				for _, m := range regexp.MustCompile(`url\(\s*['"]?([^'")]*)`).FindAllStringSubmatch(css, -1) {
					if !strings.HasPrefix(m[1], "data:") && !strings.HasPrefix(m[1], "#") {
						t.Errorf("CSS url(%s)", m[1])
					}
				}
			}
			if v, ok := attr(n, "style"); ok && strings.Contains(v, "url(") && !strings.Contains(v, "url(#") {
				t.Errorf("style=%q fetches", v)
			}
			switch n.Data {
			case "section":
				id, _ := attr(n, "id")
				d.sections = append(d.sections, id)
			case "a":
				if v, ok := attr(n, "href"); ok && strings.HasPrefix(v, "#") {
					d.toc = append(d.toc, v[1:])
				}
			case "table":
				table, _ = attr(n, "data-table")
				d.rows[table] += 0
			case "tr":
				if n.Parent != nil && n.Parent.Data == "tbody" {
					d.rows[table]++
				}
			case "figure":
				id, _ := attr(n, "id")
				d.charts[id] = false
			case "svg":
				if n.Parent != nil && n.Parent.Data == "figure" {
					id, _ := attr(n.Parent, "id")
					d.charts[id] = true
				}
				if inFlow {
					d.flowSVG = true
				}
				d.svgs++
			case "div":
				if c, _ := attr(n, "class"); c == "r-flow" {
					inFlow = true
				}
			case "dt":
				lastDT = text(n)
			case "dd":
				d.facts[lastDT] = text(n)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, table, inFlow)
		}
	}
	walk(root, "", false)
	return d
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// buildReport feeds a capture to a Report.
func buildReport(t *testing.T, path string) *Report {
	t.Helper()
	r := NewReport(ReportOptions{})
	for _, m := range decodeFile(t, path) {
		r.Add(m)
	}
	return r
}

// TestReportCaptures writes the report of every capture and checks its
// structure: every section, tables with as many rows as the aggregator's,
// every chart an <svg>, the flow diagram, and nothing fetched from elsewhere.
func TestReportCaptures(t *testing.T) {
	for _, path := range captures(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			r := buildReport(t, path)
			var page bytes.Buffer
			if err := r.WriteHTML(&page, ReportInfo{File: filepath.Base(path), Location: time.UTC}); err != nil {
				t.Fatal(err)
			}
			d := parseReport(t, page.Bytes())
			if strings.Join(d.sections, ",") != strings.Join(reportSections, ",") {
				t.Errorf("sections %v, want %v", d.sections, reportSections)
			}
			if strings.Join(d.toc, ",") != strings.Join(reportSections, ",") {
				t.Errorf("table of contents %v, want %v", d.toc, reportSections)
			}
			a := r.Aggregator()
			n, _ := a.Messages()
			want := map[string]int{
				"ops": len(a.Ops()), "clients": len(a.Clients()), "connections": len(a.Connections()),
				"sizes": len(a.Sizes()), "largest": len(a.LargestMessages()), "size_buckets": len(a.SizeBuckets()),
				"fanout": len(a.Fanouts()), "fanout_total": 1, "loss": len(a.Losses()),
			}
			for name, rows := range want {
				got, ok := d.rows[name]
				if rows == 0 && !ok {
					continue // an empty table says "None."
				}
				if got != rows {
					t.Errorf("table %s: %d rows, want %d", name, got, rows)
				}
			}
			if d.rows["ops"] == 0 || d.rows["clients"] == 0 || d.rows["connections"] == 0 {
				t.Errorf("a real capture filled no ops, clients or connections: %v", d.rows)
			}
			if !strings.HasPrefix(d.facts["Messages"], strconv.FormatUint(n, 10)+" sent") {
				t.Errorf("header says %q, want %d sent", d.facts["Messages"], n)
			}
			wantCharts := []string{"rate-chart", "size-chart", "latency-1"}
			if len(r.Backlogs()) > 0 {
				wantCharts = append(wantCharts, "backlog-chart")
			} else if _, ok := d.charts["backlog-chart"]; ok {
				t.Errorf("a backlog chart without a receive side")
			}
			for _, id := range wantCharts {
				if !d.charts[id] {
					t.Errorf("chart %s missing or without <svg> (charts: %v)", id, d.charts)
				}
			}
			for id, ok := range d.charts {
				if !ok {
					t.Errorf("chart %s has no <svg>", id)
				}
			}
			if !d.flowSVG {
				t.Errorf("no flow diagram")
			}
			if d.svgs != len(d.charts)+1 {
				t.Errorf("%d <svg>, want %d charts and the flow diagram", d.svgs, len(d.charts))
			}
			if d.scripts != 1 {
				t.Errorf("%d scripts, want the one that sorts tables", d.scripts)
			}
		})
	}
}

// TestReportReceiveSide checks the backlog series against the connections
// table on the capture with the receive side: the same maximum per connection.
func TestReportReceiveSide(t *testing.T) {
	r := buildReport(t, filepath.Join(rxDir, "bookworm-rx.pcapng"))
	series := r.Backlogs()
	if len(series) == 0 {
		t.Fatal("no backlog series on a receive-side capture")
	}
	want := map[string]uint64{}
	for _, c := range r.Aggregator().Connections() {
		if c.RX {
			want[c.Conn] = c.MaxBacklog
		}
	}
	if len(series) != len(want) {
		t.Errorf("%d series, want one per connection with RX (%d)", len(series), len(want))
	}
	for i, s := range series {
		if s.Max != want[s.Conn] {
			t.Errorf("%s: series max %d, connections table %d", s.Conn, s.Max, want[s.Conn])
		}
		var peak uint64
		for _, p := range s.Points {
			peak = max(peak, p.Backlog)
		}
		if peak != s.Max {
			t.Errorf("%s: points peak at %d, max %d", s.Conn, peak, s.Max)
		}
		if i > 0 && s.Max > series[i-1].Max {
			t.Errorf("series not largest first")
		}
	}
}

// TestReportBusiestSecond checks that the flow diagram is of the second
// with the most messages sent.
func TestReportBusiestSecond(t *testing.T) {
	path := filepath.Join(captureDir, "bookworm-workload.pcapng")
	msgs := decodeFile(t, path)
	r := NewReport(ReportOptions{FlowMax: 50})
	per := map[int64]int{}
	for _, m := range msgs {
		r.Add(m)
		if m.Kind == decode.KindMessage && !m.RX && !m.Time.IsZero() {
			per[m.Time.Unix()]++
		}
	}
	var best int64
	for s, n := range per {
		if n > per[best] || (n == per[best] && s < best) {
			best = s
		}
	}
	f, at, n := r.BusiestSecond()
	if f == nil || at.Unix() != best || n != per[best] {
		t.Fatalf("busiest second %v with %d messages, want %v with %d", at, n, time.Unix(best, 0), per[best])
	}
	if len(f.Arrows) > 50 || f.Selected < n {
		t.Errorf("%d arrows of %d selected, want at most 50 of at least %d", len(f.Arrows), f.Selected, n)
	}
	for _, a := range f.Arrows {
		if a.Msg.Time.Unix() != best {
			t.Errorf("arrow of seq %d at %v, outside the second", a.Msg.Seq, a.Msg.Time)
		}
	}
	for _, l := range f.Lifelines {
		if l.Comm == "" {
			t.Errorf("lifeline %d unnamed: names are learnt over the whole capture", l.PID)
		}
	}
}

// TestBacklogTableBounded checks that a long series is merged to stay within its cap.
func TestBacklogTableBounded(t *testing.T) {
	bt := newBacklogTable(time.Millisecond, 100, 10)
	t0 := time.Unix(1000, 0)
	for i := range 10000 {
		m := &decode.Message{Kind: decode.KindMessage, Conn: "c", Channel: capfile.ChannelEvent, Time: t0.Add(time.Duration(i) * time.Millisecond)}
		bt.add(m)
		rx := *m
		rx.RX = true
		if i%2 == 0 {
			bt.add(&rx)
		}
	}
	s := bt.series()
	if len(s) != 1 {
		t.Fatalf("%d series, want 1", len(s))
	}
	if len(s[0].Points) > 100 {
		t.Errorf("%d points, want at most 100", len(s[0].Points))
	}
	if s[0].Max != 5000 || s[0].Points[len(s[0].Points)-1].Backlog != 5000 {
		t.Errorf("max %d, last %d, want 5000", s[0].Max, s[0].Points[len(s[0].Points)-1].Backlog)
	}
}

package analyse

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"path/filepath"
	"strings"
	"time"
)

// reportSection is one section of the report, listed in its table of contents.
type reportSection struct {
	ID     string
	Title  string
	Intro  string
	Charts []reportChart
	Grid   bool // charts two to a row
	Tables []reportTable
	Flow   template.HTML
	Empty  string // said when the section has nothing to show
}

// reportPage is what the report template fills in.
type reportPage struct {
	Title    string
	Facts    [][2]string
	Sections []reportSection
	Style    template.CSS
	Script   template.JS
}

// WriteHTML writes the report as one self-contained HTML page: tables,
// SVG charts and the busiest second's flow diagram, with inline CSS and a
// little inline JavaScript that sorts the tables. It loads nothing.
func (r *Report) WriteHTML(w io.Writer, info ReportInfo) error {
	loc := info.Location
	if loc == nil {
		loc = time.Local
	}
	page := reportPage{Title: "pcmk-trace report: " + filepath.Base(info.File), Style: template.CSS(reportCSS), Script: template.JS(reportJS)}
	page.Facts = r.facts(info, loc)
	tables, err := r.agg.Tables()
	if err != nil {
		return err
	}
	byName := map[string]*Table{}
	for _, t := range tables {
		byName[t.Name] = t
	}
	tab := func(name string) reportTable { return htmlTable(byName[name], loc) }

	latency, err := r.latencyCharts()
	if err != nil {
		return err
	}
	ops := reportSection{ID: "ops", Title: "Operations", Grid: true, Charts: latency,
		Intro:  fmt.Sprintf("Response time per service and operation. The charts show the %d operations with the most requests: how many replies came within each time bucket.", len(latency)),
		Tables: []reportTable{tab("ops")}}
	clients := reportSection{ID: "clients", Title: "Clients",
		Tables: []reportTable{tab("clients")}}
	conns := reportSection{ID: "connections", Title: "Connections", Tables: []reportTable{tab("connections")},
		Intro: "Events each server sent per libqb connection. With the receive side recorded (record --rx), the events the client had not read yet."}
	if c, err := r.backlogChart(); err != nil {
		return err
	} else if c != nil {
		conns.Charts = append(conns.Charts, *c)
	}
	rate := reportSection{ID: "rate", Title: "Message rate",
		Intro: "Messages per second of each service over the capture (pcmk-trace stats --table rate gives the numbers)."}
	if c, err := r.rateChart(); err != nil {
		return err
	} else if c != nil {
		rate.Charts = append(rate.Charts, *c)
	} else {
		rate.Empty = "No message has a time."
	}
	sizes := reportSection{ID: "sizes", Title: "Sizes", Intro: "Message sizes per service, and the largest messages.",
		Tables: []reportTable{tab("sizes"), tab("largest"), tab("size_buckets")}}
	if c, err := r.sizeChart(); err != nil {
		return err
	} else if c != nil {
		sizes.Charts = append(sizes.Charts, *c)
	}
	fanout := reportSection{ID: "fanout", Title: "Fan-out", Intro: "Notification events (cib_diff_notify) sent per CIB change.",
		Tables: []reportTable{tab("fanout_total"), tab("fanout")}}
	loss := reportSection{ID: "loss", Title: "Loss", Tables: []reportTable{tab("loss")}}
	flow, err := r.flowSection(loc)
	if err != nil {
		return err
	}
	page.Sections = []reportSection{ops, clients, conns, rate, sizes, fanout, loss, flow}
	return reportTemplate.Execute(w, page)
}

// facts are the header's lines: what was captured, where, and how much.
func (r *Report) facts(info ReportInfo, loc *time.Location) [][2]string {
	s := info.Section
	var facts [][2]string
	add := func(k, v string) {
		if v != "" {
			facts = append(facts, [2]string{k, v})
		}
	}
	add("File", info.File)
	add("Host", s.Host)
	add("Kernel", strings.TrimSpace(s.Kernel+" "+s.Hardware))
	add("Pacemaker", strings.Join(s.Pacemaker, ", "))
	add("libqb", strings.Join(s.LibQB, ", "))
	add("Recorder", s.Recorder)
	add("Command", s.CommandLine)
	first, last := r.agg.Span()
	if !first.IsZero() {
		add("Time", fmt.Sprintf("%s to %s (%s)", first.In(loc).Format("2006-01-02 15:04:05.000 MST"),
			last.In(loc).Format("15:04:05.000"), shortDuration(last.Sub(first))))
	}
	n, bytes := r.agg.Messages()
	add("Messages", fmt.Sprintf("%d sent, %s", n, shortBytes(bytes)))
	var lost, records uint64
	for _, l := range r.agg.Losses() {
		lost += l.Messages
		records += l.Records
	}
	if records == 0 {
		add("Loss", "none")
	} else {
		add("Loss", fmt.Sprintf("%d messages in %d records (see Loss)", lost, records))
	}
	add("Comment", s.Comment)
	add("Report by", info.Generator)
	return facts
}

// flowSection draws the busiest second.
func (r *Report) flowSection(loc *time.Location) (reportSection, error) {
	sec := reportSection{ID: "flow", Title: "Busiest second"}
	f, at, n := r.BusiestSecond()
	if f == nil {
		sec.Empty = "No message has a time."
		return sec, nil
	}
	sec.Intro = fmt.Sprintf("The messages of %s–%s, the second with the most messages (%d); hover an arrow for its details. pcmk-trace flow --since and --until draw any other time.",
		at.In(loc).Format("15:04:05"), at.Add(time.Second).In(loc).Format("15:04:05"), n)
	if f.Cut() {
		f.Notes = append(f.Notes, fmt.Sprintf("showing the first %d of %d messages", len(f.Arrows), f.Selected))
	}
	var b bytes.Buffer
	if err := WriteFlowSVG(&b, f); err != nil {
		return sec, fmt.Errorf("flow diagram: %w", err)
	}
	svg := b.String()
	if i := strings.Index(svg, "<svg"); i >= 0 {
		svg = svg[i:] // no XML declaration inside HTML
	}
	sec.Flow = template.HTML(svg)
	return sec, nil
}

var reportTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>{{.Style}}</style>
</head>
<body>
<header class="r-top">
<h1>{{.Title}}</h1>
<dl class="r-facts">{{range .Facts}}
<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}
</dl>
<nav class="r-toc" aria-label="Contents"><ol>{{range .Sections}}
<li><a href="#{{.ID}}">{{.Title}}</a></li>{{end}}
</ol></nav>
</header>
<main>{{range .Sections}}
<section id="{{.ID}}">
<h2>{{.Title}}</h2>
{{with .Intro}}<p class="r-intro">{{.}}</p>{{end}}
{{with .Empty}}<p class="r-empty">{{.}}</p>{{end}}
{{if .Charts}}<div class="{{if .Grid}}r-grid{{else}}r-charts{{end}}">{{range .Charts}}
<figure class="r-chart" id="{{.ID}}"><figcaption><b>{{.Title}}</b> <span>{{.Caption}}</span></figcaption>
{{.SVG}}
</figure>{{end}}
</div>{{end}}
{{range .Tables}}
<h3 id="table-{{.Name}}">{{.Title}}</h3>
{{if .Rows}}<div class="r-scroll"><table class="r-table" data-table="{{.Name}}">
<thead><tr>{{range .Columns}}<th{{if .Numeric}} class="r-num"{{end}} title="click to sort">{{.Head}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}
<tr>{{range .}}<td{{if .Numeric}} class="r-num"{{end}}{{if .Sort}} data-v="{{.Sort}}"{{end}}>{{.Text}}</td>{{end}}</tr>{{end}}
</tbody>
</table></div>{{else}}<p class="r-empty">None.</p>{{end}}
{{end}}
{{with .Flow}}<div class="r-flow">{{.}}</div>{{end}}
</section>{{end}}
</main>
<script>{{.Script}}</script>
</body>
</html>
`))

package analyse

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-analyze/charts"
)

// A reportChart is one SVG chart of the report, with a caption.
type reportChart struct {
	ID      string
	Title   string
	Caption string
	SVG     template.HTML // from the chart library, which escapes its text
}

// Chart sizes: the latency charts come two to a row.
const (
	chartWide, chartWideHeight   = 980, 360
	chartSmall, chartSmallHeight = 480, 230
	chartMaxPoints               = 240 // points of a time series chart
)

// chartTheme is the light theme with the report's text colour.
var chartTheme = charts.GetTheme(charts.ThemeLight)

// renderChart renders one chart as SVG with the report's defaults.
func renderChart(opt charts.ChartOption) (string, error) {
	opt.OutputFormat = charts.ChartOutputSVG
	opt.Theme = chartTheme
	if opt.Padding.IsZero() {
		opt.Padding = charts.Box{Top: 16, Right: 24, Bottom: 12, Left: 12}
	}
	p, err := charts.Render(opt)
	if err != nil {
		return "", err
	}
	b, err := p.Bytes()
	if err != nil {
		return "", err
	}
	return string(b), nil
}

// latencyCharts draws the latency histogram of the n operations with the most requests.
func (r *Report) latencyCharts() ([]reportChart, error) {
	ops := slices.DeleteFunc(r.agg.Ops(), func(o Op) bool { return o.Latencies == 0 })
	slices.SortStableFunc(ops, func(x, y Op) int { return cmp.Compare(y.Requests, x.Requests) })
	ops = ops[:min(len(ops), r.opts.TopOps)]
	var out []reportChart
	for i, o := range ops {
		buckets := r.agg.LatencyBuckets(o.Service, o.Op)
		labels := make([]string, len(buckets))
		values := make([]float64, len(buckets))
		for k, b := range buckets {
			labels[k] = "<" + shortDuration(b.To)
			values[k] = float64(b.Count)
		}
		svg, err := renderChart(charts.ChartOption{
			Width: chartSmall, Height: chartSmallHeight,
			SeriesList: charts.NewSeriesListBar([][]float64{values}).ToGenericSeriesList(),
			XAxis:      charts.XAxisOption{Labels: labels, LabelRotation: labelRotation(len(labels), chartSmall)},
			YAxis:      []charts.YAxisOption{{Title: "requests", Min: charts.Ptr(0.0), ValueFormatter: countFormatter}},
			Legend:     charts.LegendOption{Show: charts.Ptr(false)},
		})
		if err != nil {
			return nil, fmt.Errorf("latency chart of %s %s: %w", o.Service, o.Op, err)
		}
		out = append(out, reportChart{
			ID:    "latency-" + strconv.Itoa(i+1),
			Title: o.Op + " (" + o.Service + ")",
			Caption: fmt.Sprintf("%d latencies: p50 %s, p90 %s, p99 %s, max %s",
				o.Latencies, shortDuration(o.P50), shortDuration(o.P90), shortDuration(o.P99), shortDuration(o.Max)),
			SVG: template.HTML(svg),
		})
	}
	return out, nil
}

// rateChart draws the messages per second of each service over time.
func (r *Report) rateChart() (*reportChart, error) {
	rates := r.agg.Rates()
	if len(rates) == 0 {
		return nil, nil
	}
	first, last := rates[0].Time, rates[len(rates)-1].Time.Add(rates[0].Width)
	width := rates[0].Width
	n := int((last.Sub(first) + width - 1) / width)
	step := max(1, (n+chartMaxPoints-1)/chartMaxPoints) // intervals per point
	points := (n + step - 1) / step
	series := map[string][]float64{}
	var names []string
	for _, x := range rates {
		v := series[x.Service]
		if v == nil {
			v = make([]float64, points)
			series[x.Service] = v
			names = append(names, x.Service)
		}
		v[int(x.Time.Sub(first)/width)/step] += float64(x.Messages)
	}
	slices.Sort(names)
	per := (time.Duration(step) * width).Seconds()
	values := make([][]float64, len(names))
	for i, s := range names {
		for k := range series[s] {
			series[s][k] /= per
		}
		values[i] = series[s]
	}
	labels := make([]string, points)
	for k := range labels {
		labels[k] = "+" + shortDuration(time.Duration(k*step)*width)
	}
	svg, err := renderChart(charts.ChartOption{
		Width: chartWide, Height: chartWideHeight,
		SeriesList:      charts.NewSeriesListLine(values).ToGenericSeriesList(),
		XAxis:           charts.XAxisOption{Labels: labels, LabelCount: 10, BoundaryGap: charts.Ptr(false)},
		YAxis:           []charts.YAxisOption{{Title: "messages/s", Min: charts.Ptr(0.0), ValueFormatter: countFormatter}},
		Legend:          charts.LegendOption{SeriesNames: names, Offset: charts.OffsetRight},
		Symbol:          charts.Symbol{Shape: charts.SymbolNone},
		LineStrokeWidth: 1.6,
	})
	if err != nil {
		return nil, fmt.Errorf("rate chart: %w", err)
	}
	return &reportChart{ID: "rate-chart", Title: "Messages per second by service",
		Caption: fmt.Sprintf("one point per %s, from %d intervals of %s", shortDuration(time.Duration(step)*width), n, shortDuration(width)),
		SVG:     template.HTML(svg)}, nil
}

// sizeChart draws the size histogram of each service.
func (r *Report) sizeChart() (*reportChart, error) {
	sizes := r.agg.Sizes()
	lo, hi := len(Size{}.Buckets), -1
	for _, s := range sizes {
		for i, n := range s.Buckets {
			if n > 0 {
				lo, hi = min(lo, i), max(hi, i)
			}
		}
	}
	if hi < 0 {
		return nil, nil
	}
	labels := make([]string, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		labels = append(labels, "<"+shortBytes(uint64(1)<<min(i, 63)))
	}
	values := make([][]float64, len(sizes))
	names := make([]string, len(sizes))
	for k, s := range sizes {
		names[k] = s.Service
		for i := lo; i <= hi; i++ {
			values[k] = append(values[k], float64(s.Buckets[i]))
		}
	}
	svg, err := renderChart(charts.ChartOption{
		Width: chartWide, Height: chartWideHeight,
		SeriesList: charts.NewSeriesListBar(values).ToGenericSeriesList(),
		XAxis:      charts.XAxisOption{Labels: labels},
		YAxis:      []charts.YAxisOption{{Title: "messages", Min: charts.Ptr(0.0), ValueFormatter: countFormatter}},
		Legend:     charts.LegendOption{SeriesNames: names, Offset: charts.OffsetRight},
	})
	if err != nil {
		return nil, fmt.Errorf("size chart: %w", err)
	}
	return &reportChart{ID: "size-chart", Title: "Message sizes by service",
		Caption: fmt.Sprintf("messages per size, in buckets that double; over %s a message is compressed or split", shortBytes(BufferSize)),
		SVG:     template.HTML(svg)}, nil
}

// backlogChart draws the event backlog over time of the connections with the largest one.
func (r *Report) backlogChart() (*reportChart, error) {
	all := r.Backlogs()
	if len(all) == 0 {
		return nil, nil
	}
	shown := all[:min(len(all), r.opts.Backlogs)]
	var first, last time.Time
	for _, s := range shown {
		for _, p := range s.Points {
			if first.IsZero() || p.Time.Before(first) {
				first = p.Time
			}
			if p.Time.After(last) {
				last = p.Time
			}
		}
	}
	span := last.Sub(first)
	width := max(r.backlog.width, (span+chartMaxPoints-1)/chartMaxPoints)
	points := int(span/width) + 1
	values := make([][]float64, len(shown))
	names := make([]string, len(shown))
	for k, s := range shown {
		names[k] = backlogName(s)
		v := make([]float64, points)
		prev := 0.0
		i := 0
		for j := range v {
			end := first.Add(time.Duration(j+1) * width)
			peak := -1.0
			for ; i < len(s.Points) && s.Points[i].Time.Before(end); i++ {
				peak = max(peak, float64(s.Points[i].Backlog))
			}
			if peak < 0 {
				peak = prev // no event: the backlog stays
			}
			v[j], prev = peak, peak
		}
		values[k] = v
	}
	labels := make([]string, points)
	for j := range labels {
		labels[j] = "+" + shortDuration(time.Duration(j)*width)
	}
	svg, err := renderChart(charts.ChartOption{
		Width: chartWide, Height: chartWideHeight,
		SeriesList:      charts.NewSeriesListLine(values).ToGenericSeriesList(),
		XAxis:           charts.XAxisOption{Labels: labels, LabelCount: 10, BoundaryGap: charts.Ptr(false)},
		YAxis:           []charts.YAxisOption{{Title: "unread events", Min: charts.Ptr(0.0), ValueFormatter: countFormatter}},
		Legend:          charts.LegendOption{SeriesNames: names, Offset: charts.OffsetRight},
		Symbol:          charts.Symbol{Shape: charts.SymbolNone},
		LineStrokeWidth: 1.6,
	})
	if err != nil {
		return nil, fmt.Errorf("backlog chart: %w", err)
	}
	caption := fmt.Sprintf("the largest backlog per %s of the %d connections (of %d with the receive side recorded) with the largest; Pacemaker evicts a client at %d",
		shortDuration(width), len(shown), len(all), r.agg.cfg.IPCLimit)
	return &reportChart{ID: "backlog-chart", Title: "Unread events per connection", Caption: caption, SVG: template.HTML(svg)}, nil
}

func backlogName(s BacklogSeries) string {
	c := s.Comm
	if c == "" {
		c = "?"
	}
	return fmt.Sprintf("%s[%d] %s", c, s.ClientPID, s.Service)
}

// labelRotation tilts the labels of a crowded category axis.
func labelRotation(n, width int) float64 {
	if n*48 > width {
		return charts.DegreesToRadians(45)
	}
	return 0
}

func countFormatter(f float64) string {
	switch {
	case f >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', -1, 64) + "M"
	case f >= 1e4:
		return strconv.FormatFloat(f/1e3, 'f', -1, 64) + "k"
	case f == float64(int64(f)):
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// shortDuration prints d with three significant digits at most.
func shortDuration(d time.Duration) string {
	units := []struct {
		d    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "min"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "µs"}}
	for _, u := range units {
		if d >= u.d {
			return trimFloat(float64(d)/float64(u.d)) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

// shortBytes prints n in B, KiB, MiB or GiB.
func shortBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return trimFloat(float64(n)/(1<<30)) + " GiB"
	case n >= 1<<20:
		return trimFloat(float64(n)/(1<<20)) + " MiB"
	case n >= 1<<10:
		return trimFloat(float64(n)/(1<<10)) + " KiB"
	}
	return strconv.FormatUint(n, 10) + " B"
}

func trimFloat(f float64) string {
	prec := 0
	switch {
	case f < 10:
		prec = 2
	case f < 100:
		prec = 1
	}
	s := strconv.FormatFloat(f, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

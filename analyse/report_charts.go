package analyse

import (
	"cmp"
	"fmt"
	"html/template"
	"math"
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
		peak := 0.0
		for k, b := range buckets {
			labels[k] = "<" + shortDuration(b.To)
			values[k] = float64(b.Count)
			peak = max(peak, values[k])
		}
		svg, err := renderChart(charts.ChartOption{
			Width: chartSmall, Height: chartSmallHeight,
			SeriesList: charts.NewSeriesListBar([][]float64{values}).ToGenericSeriesList(),
			XAxis:      charts.XAxisOption{Labels: labels, LabelRotation: labelRotation(len(labels), chartSmall)},
			YAxis:      []charts.YAxisOption{countAxis("requests", peak)},
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
	rs := &r.rate
	if rs.n == 0 {
		return nil, nil
	}
	order := slices.Clone(rs.services)
	slices.Sort(order)
	values := make([][]float64, len(order))
	peak := 0.0
	for k, name := range order {
		v := make([]float64, rs.n)
		for i, n := range rs.counts[rs.index[name]] {
			v[i] = float64(n) / rs.width.Seconds()
			peak = max(peak, v[i])
		}
		values[k] = v
	}
	labels := make([]string, rs.n)
	for i := range labels {
		labels[i] = "+" + shortDuration(time.Duration(i)*rs.width)
	}
	svg, err := renderChart(charts.ChartOption{
		Width: chartWide, Height: chartWideHeight,
		SeriesList:      charts.NewSeriesListLine(values).ToGenericSeriesList(),
		XAxis:           charts.XAxisOption{Labels: labels, LabelCount: xLabelCount(len(labels)), BoundaryGap: charts.Ptr(false)},
		YAxis:           []charts.YAxisOption{countAxis("messages/s", peak)},
		Legend:          charts.LegendOption{SeriesNames: order, Offset: charts.OffsetRight},
		Symbol:          charts.Symbol{Shape: charts.SymbolNone},
		LineStrokeWidth: 1.6,
	})
	if err != nil {
		return nil, fmt.Errorf("rate chart: %w", err)
	}
	return &reportChart{ID: "rate-chart", Title: "Messages per second by service",
		Caption: "averaged over " + shortDuration(rs.width), SVG: template.HTML(svg)}, nil
}

// countAxis is a value axis from 0 with ticks at round steps: whole
// numbers for counts.
func countAxis(title string, peak float64) charts.YAxisOption {
	step := 1.0
	for _, m := range []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7} {
		step = m
		if peak/m <= 6 {
			break
		}
	}
	top := max(step, math.Ceil(peak/step)*step)
	return charts.YAxisOption{Title: title, Min: charts.Ptr(0.0), Max: charts.Ptr(top),
		LabelCount: int(top/step) + 1, ValueFormatter: countFormatter}
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
	peak := 0.0
	for k, s := range sizes {
		names[k] = s.Service
		for i := lo; i <= hi; i++ {
			values[k] = append(values[k], float64(s.Buckets[i]))
			peak = max(peak, float64(s.Buckets[i]))
		}
	}
	svg, err := renderChart(charts.ChartOption{
		Width: chartWide, Height: chartWideHeight,
		SeriesList: charts.NewSeriesListBar(values).ToGenericSeriesList(),
		XAxis:      charts.XAxisOption{Labels: labels},
		YAxis:      []charts.YAxisOption{countAxis("messages", peak)},
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
		XAxis:           charts.XAxisOption{Labels: labels, LabelCount: xLabelCount(len(labels)), BoundaryGap: charts.Ptr(false)},
		YAxis:           []charts.YAxisOption{countAxis("unread events", float64(shown[0].Max))},
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

// xLabelCount picks about ten labels for n points, so that the last
// label falls on a step and does not crowd the one before it.
func xLabelCount(n int) int {
	for k := 10; k >= 5; k-- {
		if n > k && (n-1)%(k-1) == 0 {
			return k
		}
	}
	return min(n, 10)
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
	if d == 0 {
		return "0s"
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

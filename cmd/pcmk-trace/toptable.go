package main

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pcmk-trace/pcmk-trace/analyse"
)

// topColumn is one column of top's table: its heading, the key that sorts
// by it, and whether it holds numbers (sorted largest first, right-aligned).
type topColumn struct {
	name    string
	key     rune
	numeric bool
}

var opColumns = []topColumn{
	{"SERVICE", 's', false}, {"OP", 'o', false}, {"REQ/S", 'r', true}, {"TOTAL", 't', true},
	{"BYTES/S", 'b', true}, {"P50", '5', true}, {"P99", '9', true}, {"INFL", 'f', true}, {"ERR", 'e', true},
}

var clientColumns = []topColumn{
	{"PID", 'p', true}, {"COMM", 'm', false}, {"SERVICE", 's', false}, {"REQ/S", 'r', true},
	{"TOTAL", 't', true}, {"BYTES/S", 'b', true},
}

// topRow is one row of top's table: its cells, the values it sorts by, and
// its recent request rates.
type topRow struct {
	cells   []string
	values  []float64 // per numeric column, the value behind the cell
	match   string    // what the / filter searches: service, operation, process
	history []float64
}

// opRows returns the frame's per-operation rows.
func opRows(f *analyse.TopFrame) []topRow {
	rows := make([]topRow, 0, len(f.Ops))
	for _, r := range f.Ops {
		rate, bps := f.PerSecond(r.Requests), f.PerSecond(r.Bytes)
		rows = append(rows, topRow{
			cells: []string{r.Service, r.Op, formatRate(rate), strconv.FormatUint(r.Total, 10), formatByteRate(bps),
				formatLatency(r.P50, r.Latencies), formatLatency(r.P99, r.Latencies),
				strconv.FormatUint(r.InFlight, 10), strconv.FormatUint(r.Errors, 10)},
			values: []float64{0, 0, rate, float64(r.Total), bps, float64(r.P50), float64(r.P99),
				float64(r.InFlight), float64(r.Errors)},
			match:   r.Service + " " + r.Op,
			history: r.History,
		})
	}
	return rows
}

// clientRows returns the frame's per-client-process rows.
func clientRows(f *analyse.TopFrame) []topRow {
	rows := make([]topRow, 0, len(f.Clients))
	for _, r := range f.Clients {
		rate, bps := f.PerSecond(r.Requests), f.PerSecond(r.Bytes)
		comm := r.Comm
		if comm == "" {
			comm = "-"
		}
		rows = append(rows, topRow{
			cells: []string{strconv.FormatUint(uint64(r.PID), 10), comm, r.Service, formatRate(rate),
				strconv.FormatUint(r.Total, 10), formatByteRate(bps)},
			values:  []float64{float64(r.PID), 0, 0, rate, float64(r.Total), bps},
			match:   r.Service + " " + comm + " " + strconv.FormatUint(uint64(r.PID), 10),
			history: r.History,
		})
	}
	return rows
}

// filterRows keeps the rows whose service, operation or process contains text.
func filterRows(rows []topRow, text string) []topRow {
	if text == "" {
		return rows
	}
	return slices.DeleteFunc(rows, func(r topRow) bool { return !strings.Contains(r.match, text) })
}

// sortRows sorts rows by column col: numbers largest first, text in order;
// reverse turns it around. Ties keep the frame's order.
func sortRows(rows []topRow, cols []topColumn, col int, reverse bool) {
	slices.SortStableFunc(rows, func(x, y topRow) int {
		var c int
		if cols[col].numeric {
			c = cmp.Compare(y.values[col], x.values[col])
		} else {
			c = cmp.Compare(x.cells[col], y.cells[col])
		}
		if reverse {
			return -c
		}
		return c
	})
}

// columnWidths returns the width of each column over the heading and rows.
func columnWidths(cols []topColumn, rows []topRow) []int {
	w := make([]int, len(cols))
	for i, c := range cols {
		w[i] = utf8.RuneCountInString(c.name)
	}
	for _, r := range rows {
		for i, c := range r.cells {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	return w
}

// formatCells aligns one line of cells: text left, numbers right.
func formatCells(cols []topColumn, widths []int, cells []string) string {
	var b strings.Builder
	for i, c := range cells {
		if i > 0 {
			b.WriteString("  ")
		}
		if cols[i].numeric {
			fmt.Fprintf(&b, "%*s", widths[i], c)
		} else {
			fmt.Fprintf(&b, "%-*s", widths[i], c)
		}
	}
	return b.String()
}

// sparkline draws rates as block characters, scaled to the largest.
func sparkline(rates []float64, n int) string {
	const bars = "▁▂▃▄▅▆▇█"
	runes := []rune(bars)
	top := slices.Max(append([]float64{0}, rates...))
	var b strings.Builder
	for range n - len(rates) {
		b.WriteRune(' ')
	}
	for _, r := range rates {
		switch {
		case r <= 0:
			b.WriteRune(' ')
		default:
			b.WriteRune(runes[min(int(r/top*float64(len(runes)-1)+0.5), len(runes)-1)])
		}
	}
	return b.String()
}

func formatRate(r float64) string {
	if r >= 100 || r == 0 {
		return strconv.FormatFloat(r, 'f', 0, 64)
	}
	return strconv.FormatFloat(r, 'f', 1, 64)
}

func formatByteRate(b float64) string {
	switch {
	case b >= 10<<20:
		return fmt.Sprintf("%.0fM", b/(1<<20))
	case b >= 1<<20:
		return fmt.Sprintf("%.1fM", b/(1<<20))
	case b >= 10<<10:
		return fmt.Sprintf("%.0fK", b/(1<<10))
	case b >= 1<<10:
		return fmt.Sprintf("%.1fK", b/(1<<10))
	}
	return fmt.Sprintf("%.0f", b)
}

// formatLatency prints a latency with three significant digits, or "-" when none was measured.
func formatLatency(d time.Duration, n uint64) string {
	if n == 0 {
		return "-"
	}
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2fs", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.3gms", float64(d)/1e6)
	}
	return fmt.Sprintf("%.3gµs", float64(d)/1e3)
}

// topHeader is the line above the table: traffic, loss (always), probes and uptime.
func topHeader(f *analyse.TopFrame, s *topSource) string {
	h := fmt.Sprintf("%s msg/s  %s/s  lost %d (%d total)", formatRate(f.PerSecond(f.Messages)),
		formatByteRate(f.PerSecond(f.Bytes)), f.Lost, f.TotalLost)
	if s.live() {
		h += fmt.Sprintf("  probes %d  libqb files %d", s.probes, s.libs)
	} else {
		h += "  file " + s.o.file
	}
	return h + "  up " + formatUptime(f.Time.Sub(s.started()))
}

func formatUptime(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, sec := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, sec)
	}
	return fmt.Sprintf("%d:%02d", m, sec)
}

package analyse

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Text ladder layout: "  time(ms)     seq " then the lifelines, then the label.
const (
	flowTextLeft     = 18 // time and seq columns
	flowTextMinCol   = 3  // narrowest lifeline column
	flowTextMaxCol   = 22 // widest lifeline column
	flowTextMinLabel = 28 // room kept for labels when fitting the lifelines
)

// WriteFlowText writes f as a terminal ladder: one column per lifeline and
// one row per arrow, requests as ---->, replies as <- - -, events as ....>,
// a failed answer ending in x instead of the arrowhead, markers as =====.
// Lifeline columns narrow to fit width runes with room for labels, down to
// a minimum; lines are then cut to width, but never inside the lifelines.
// width <= 0 means no limit.
func WriteFlowText(w io.Writer, f *Flow, width int) error {
	bw := bufio.NewWriter(w)
	for _, n := range f.Notes {
		fmt.Fprintf(bw, "# %s\n", n)
	}
	n := len(f.Lifelines)
	col := flowTextMaxCol
	if width > 0 && n > 0 {
		col = (width - flowTextLeft - flowTextMinLabel) / n
		col = max(flowTextMinCol, min(col, flowTextMaxCol))
	}
	area := col * n
	center := func(i int) int { return i*col + col/2 }
	cutAt := func(s string, width int) string {
		if width > 0 && utf8.RuneCountInString(s) > width {
			r := []rune(s)
			return string(r[:width-1]) + "…"
		}
		return s
	}
	cut := func(s string) string { return cutAt(s, width) }
	lifelines := func(upto int) []rune {
		row := []rune(strings.Repeat(" ", area))
		for i := 0; i < upto; i++ {
			row[center(i)] = '|'
		}
		return row
	}

	// Names: on one line when each fits its column, else one line each,
	// starting at its lifeline, so reading down a line leads to its name.
	names := make([]string, n)
	fits := true
	for i, l := range f.Lifelines {
		names[i] = l.Name()
		if utf8.RuneCountInString(names[i]) > col-1 {
			fits = false
		}
	}
	head := fmt.Sprintf("%10s %6s ", "ms", "seq")
	pad := strings.Repeat(" ", flowTextLeft)
	if fits {
		row := lifelines(0)
		for i, name := range names {
			start := max(0, min(center(i)-utf8.RuneCountInString(name)/2, area-utf8.RuneCountInString(name)))
			copy(row[start:], []rune(name))
		}
		fmt.Fprintln(bw, cut(strings.TrimRight(head+string(row), " ")))
	} else {
		for i, name := range names {
			row := lifelines(i)
			prefix := pad
			if i == n-1 {
				prefix = head
			}
			fmt.Fprintln(bw, cut(prefix+string(row[:center(i)])+name))
		}
	}
	fmt.Fprintln(bw, cut(strings.TrimRight(pad+string(lifelines(n)), " ")))

	for i := range f.Arrows {
		a := &f.Arrows[i]
		m := &a.Msg
		ms := ""
		if !m.Time.IsZero() && !f.Start.IsZero() {
			ms = fmt.Sprintf("%.3f", float64(m.Time.Sub(f.Start).Nanoseconds())/1e6)
		}
		row := lifelines(n)
		switch {
		case a.Kind == ArrowLoss || a.Kind == ArrowInvalid:
			for j := range row {
				row[j] = '='
			}
			row = flowTextLabel(row, "!! "+a.Label, -1, area)
		case a.From == a.To:
			row[center(a.From)] = 'o'
			row = flowTextLabel(row, "(to itself) "+a.Label, center(a.From), center(a.From))
		default:
			x, y := center(a.From), center(a.To)
			flowTextArrow(row, a, x, y)
			row = flowTextLabel(row, a.Label, min(x, y), max(x, y))
		}
		line := strings.TrimRight(fmt.Sprintf("%10s %6d %s", ms, m.Seq, string(row)), " ")
		fmt.Fprintln(bw, cutAt(line, max(width, flowTextLeft+area)))
	}
	if f.Cut() {
		fmt.Fprintf(bw, "# ... %d more not shown\n", f.Selected-len(f.Arrows))
	}
	return bw.Flush()
}

// flowTextArrow draws a's line from column x to column y of row.
func flowTextArrow(row []rune, a *Arrow, x, y int) {
	lo, hi := min(x, y), max(x, y)
	for j := lo + 1; j < hi; j++ {
		switch a.Kind {
		case ArrowReply:
			if (j-lo)%2 == 0 {
				row[j] = ' '
			} else {
				row[j] = '-'
			}
		case ArrowEvent:
			row[j] = '.'
		default:
			row[j] = '-'
		}
	}
	head := '>'
	if x > y {
		head = '<'
	}
	if a.Error {
		head = 'x'
	}
	if x < y {
		row[y-1] = head
	} else {
		row[y+1] = head
	}
}

// flowTextLabel writes label into row between columns lo and hi when it
// fits there with a space either side, else after hi, over the lifelines
// to its right.
func flowTextLabel(row []rune, label string, lo, hi int) []rune {
	text := []rune(" " + label + " ")
	if hi-lo-2 >= len(text) {
		copy(row[lo+1+(hi-lo-1-len(text))/2:], text)
		return row
	}
	at := hi + 1
	if need := at + len(text); need > len(row) {
		row = append(row, make([]rune, need-len(row))...)
	}
	copy(row[at:], text)
	return row
}

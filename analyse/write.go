package analyse

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// jsonTime is the time format of the JSON lines and CSV: RFC 3339 in UTC
// with nine fraction digits, as decode writes it.
const jsonTime = "2006-01-02T15:04:05.000000000Z07:00"

// WriteText prints the tables as aligned text, each under its title,
// with times in loc (time.Local when nil).
func WriteText(w io.Writer, tables []*Table, loc *time.Location) error {
	if loc == nil {
		loc = time.Local
	}
	bw := bufio.NewWriter(w)
	for i, t := range tables {
		if i > 0 {
			bw.WriteByte('\n')
		}
		bw.WriteString(t.Title + "\n")
		if len(t.Rows) == 0 {
			bw.WriteString("  (none)\n")
			continue
		}
		cells := make([][]string, 0, len(t.Rows)+1)
		head := make([]string, len(t.Columns))
		for j, c := range t.Columns {
			head[j] = c.Head
		}
		cells = append(cells, head)
		right := make([]bool, len(t.Columns))
		for _, row := range t.Rows {
			line := make([]string, len(row))
			for j, v := range row {
				line[j] = textCell(v, loc)
				switch v.(type) {
				case string, bool, time.Time, nil:
				default:
					right[j] = true
				}
			}
			cells = append(cells, line)
		}
		width := make([]int, len(t.Columns))
		for _, line := range cells {
			for j, s := range line {
				width[j] = max(width[j], utf8.RuneCountInString(s))
			}
		}
		for _, line := range cells {
			var b strings.Builder
			b.WriteString(" ")
			for j, s := range line {
				pad := strings.Repeat(" ", width[j]-utf8.RuneCountInString(s))
				b.WriteString(" ")
				if right[j] {
					b.WriteString(pad + s)
				} else if j < len(line)-1 {
					b.WriteString(s + pad)
				} else {
					b.WriteString(s)
				}
			}
			bw.WriteString(strings.TrimRight(b.String(), " ") + "\n")
		}
	}
	return bw.Flush()
}

func textCell(v any, loc *time.Location) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case string:
		if v == "" {
			return "-"
		}
		return v
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case time.Time:
		return v.In(loc).Format("15:04:05.000000")
	case time.Duration:
		return formatDuration(v)
	case float64:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return fmt.Sprint(v)
}

// formatDuration prints d with about four significant digits.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return strconv.FormatInt(int64(d), 10) + "ns"
	case d < time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "µs"
	case d < time.Second:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// WriteJSON prints one JSON object per row: "table" and then the
// columns, in order. Durations are integers in nanoseconds, times as
// decode writes them, absent values null.
func WriteJSON(w io.Writer, tables []*Table) error {
	bw := bufio.NewWriter(w)
	var b []byte
	for _, t := range tables {
		for _, row := range t.Rows {
			b = append(b[:0], `{"table":`...)
			b = appendJSONString(b, t.Name)
			for j, v := range row {
				b = append(b, ',')
				b = appendJSONString(b, t.Columns[j].Key)
				b = append(b, ':')
				b = appendJSON(b, v)
			}
			b = append(b, "}\n"...)
			bw.Write(b)
		}
	}
	return bw.Flush()
}

func appendJSON(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return appendJSONString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case time.Time:
		return append(v.UTC().AppendFormat(append(b, '"'), jsonTime), '"')
	case time.Duration:
		return strconv.AppendInt(b, int64(v), 10)
	case float64:
		return strconv.AppendFloat(b, v, 'f', 3, 64)
	}
	return fmt.Append(b, v)
}

// appendJSONString quotes s for JSON: strconv's Go quoting is close, but
// JSON has no \x escapes, so control and invalid bytes are written as
// \u escapes or U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20:
			b = fmt.Appendf(b, `\u%04x`, r)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// WriteCSV prints each table as CSV: a header line ("table" and the
// column keys), its rows, and an empty line between tables. Durations are
// nanoseconds, times as in the JSON, absent values empty.
func WriteCSV(w io.Writer, tables []*Table) error {
	bw := bufio.NewWriter(w)
	cw := csv.NewWriter(bw)
	for i, t := range tables {
		if i > 0 {
			cw.Flush()
			bw.WriteByte('\n')
		}
		rec := []string{"table"}
		for _, c := range t.Columns {
			rec = append(rec, c.Key)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
		for _, row := range t.Rows {
			rec = append(rec[:0], t.Name)
			for _, v := range row {
				rec = append(rec, csvCell(v))
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

func csvCell(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case time.Time:
		return v.UTC().Format(jsonTime)
	case time.Duration:
		return strconv.FormatInt(int64(v), 10)
	case float64:
		return strconv.FormatFloat(v, 'f', 3, 64)
	}
	return fmt.Sprint(v)
}

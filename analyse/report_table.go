package analyse

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// reportTable is a [Table] with its cells formatted for the HTML report.
type reportTable struct {
	Name    string
	Title   string
	Columns []reportColumn
	Rows    [][]reportCell
}

type reportColumn struct {
	Head    string
	Numeric bool
}

// reportCell is a cell's text and, for numbers and times, the value the
// table sorts it by.
type reportCell struct {
	Text    string
	Sort    string
	Numeric bool
}

// htmlTable formats t's cells: durations and sizes short, times of day in loc.
func htmlTable(t *Table, loc *time.Location) reportTable {
	out := reportTable{Name: t.Name, Title: t.Title}
	if _, rest, ok := strings.Cut(t.Title, ": "); ok {
		out.Title = strings.ToUpper(rest[:1]) + rest[1:]
	}
	out.Columns = make([]reportColumn, len(t.Columns))
	for i, c := range t.Columns {
		out.Columns[i].Head = strings.ReplaceAll(strings.TrimSuffix(c.Key, "_ns"), "_", " ")
	}
	for _, row := range t.Rows {
		cells := make([]reportCell, len(row))
		for i, v := range row {
			cells[i] = htmlCell(v, loc)
			if cells[i].Numeric {
				out.Columns[i].Numeric = true
			}
		}
		out.Rows = append(out.Rows, cells)
	}
	return out
}

func htmlCell(v any, loc *time.Location) reportCell {
	num := func(text string, sort string) reportCell { return reportCell{Text: text, Sort: sort, Numeric: true} }
	switch v := v.(type) {
	case nil:
		return reportCell{}
	case string:
		return reportCell{Text: v}
	case bool:
		if v {
			return reportCell{Text: "yes", Sort: "1"}
		}
		return reportCell{Text: "no", Sort: "0"}
	case time.Duration:
		return num(shortDuration(v), strconv.FormatInt(int64(v), 10))
	case time.Time:
		return num(v.In(loc).Format("15:04:05.000"), strconv.FormatInt(v.UnixNano(), 10))
	case float64:
		s := strconv.FormatFloat(v, 'f', 1, 64)
		return num(s, s)
	case int:
		s := strconv.Itoa(v)
		return num(s, s)
	case int64:
		s := strconv.FormatInt(v, 10)
		return num(s, s)
	case uint32:
		s := strconv.FormatUint(uint64(v), 10)
		return num(s, s)
	case uint64:
		s := strconv.FormatUint(v, 10)
		return num(s, s)
	}
	return reportCell{Text: fmt.Sprint(v)}
}

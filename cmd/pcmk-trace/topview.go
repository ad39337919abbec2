package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/pcmk-trace/pcmk-trace/analyse"
)

// frameMsg brings the model a new interval.
type frameMsg struct{ f analyse.TopFrame }

// sourceEndMsg says the source has no more frames: the file was played, or it failed.
type sourceEndMsg struct{ err error }

// topModel is top's interactive view, a bubbletea model: the latest frame
// as a table per operation or per client process, sorted, filtered, paused.
type topModel struct {
	frames <-chan analyse.TopFrame
	header func(*analyse.TopFrame) string // the header's text for a frame
	failed func() error                   // what ended the source early
	live   bool                           // the source records: its end ends the view
	count  uint64                         // quit after this many frames (0: never)

	latest  *analyse.TopFrame // the newest frame
	shown   *analyse.TopFrame // the frame on screen: the newest, unless paused
	n       uint64
	clients bool // per client process rather than per operation
	sortCol int
	reverse bool
	filter  string
	editing bool // typing a filter
	paused  bool
	ended   bool
	err     error
	width   int
	height  int
}

var (
	topTitleStyle = lipgloss.NewStyle().Bold(true)
	topHeadStyle  = lipgloss.NewStyle().Reverse(true)
	topHotStyle   = lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("9"))
	topDimStyle   = lipgloss.NewStyle().Faint(true)
	topSparkStyle = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
)

// topBacklogWarn is the share of the IPC limit at which a backlog is highlighted.
const topBacklogWarn = 0.8

func newTopModel(frames <-chan analyse.TopFrame, header func(*analyse.TopFrame) string) *topModel {
	return &topModel{frames: frames, header: header, failed: func() error { return nil }, sortCol: 2, width: 120, height: 40}
}

func (m *topModel) waitFrame() tea.Msg {
	f, ok := <-m.frames
	if !ok {
		return sourceEndMsg{err: m.failed()}
	}
	return frameMsg{f}
}

// Init starts waiting for the first frame.
func (m *topModel) Init() tea.Cmd { return m.waitFrame }

// Update handles frames, keys and the terminal's size.
func (m *topModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case frameMsg:
		m.latest = &msg.f
		if !m.paused {
			m.shown = m.latest
		}
		if m.n++; m.count > 0 && m.n >= m.count {
			return m, tea.Quit
		}
		return m, m.waitFrame
	case sourceEndMsg:
		m.ended, m.err = true, msg.err
		if m.live || m.err != nil {
			return m, tea.Quit
		}
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		return m, m.key(msg)
	}
	return m, nil
}

func (m *topModel) key(k tea.KeyPressMsg) tea.Cmd {
	if m.editing {
		switch {
		case k.String() == "ctrl+c":
			return tea.Quit
		case k.Code == tea.KeyEnter:
			m.editing = false
		case k.Code == tea.KeyEscape:
			m.editing, m.filter = false, ""
		case k.Code == tea.KeyBackspace:
			if r := []rune(m.filter); len(r) > 0 {
				m.filter = string(r[:len(r)-1])
			}
		default:
			m.filter += k.Text
		}
		return nil
	}
	switch k.String() {
	case "q", "ctrl+c":
		return tea.Quit
	case "space":
		m.paused = !m.paused
		if !m.paused {
			m.shown = m.latest
		}
	case "c":
		m.clients, m.reverse = !m.clients, false
		m.sortCol = slices.IndexFunc(m.columns(), func(c topColumn) bool { return c.name == "REQ/S" })
	case "/":
		m.editing = true
	case "esc":
		m.filter = ""
	default:
		if r := []rune(k.Text); len(r) == 1 {
			for i, c := range m.columns() {
				if c.key == r[0] {
					if i == m.sortCol {
						m.reverse = !m.reverse
					} else {
						m.sortCol, m.reverse = i, false
					}
				}
			}
		}
	}
	return nil
}

func (m *topModel) columns() []topColumn {
	if m.clients {
		return clientColumns
	}
	return opColumns
}

// rows returns the shown frame's rows, filtered and sorted.
func (m *topModel) rows() []topRow {
	if m.shown == nil {
		return nil
	}
	var rows []topRow
	if m.clients {
		rows = clientRows(m.shown)
	} else {
		rows = opRows(m.shown)
	}
	rows = filterRows(rows, m.filter)
	sortRows(rows, m.columns(), m.sortCol, m.reverse)
	return rows
}

// View draws the screen on the alternate screen, which keeps the shell's
// scrollback; bubbletea leaves it on exit.
func (m *topModel) View() tea.View {
	v := tea.NewView(m.screen())
	v.AltScreen = true
	return v
}

// screen draws the header, the table, the connections' backlogs and the keys.
func (m *topModel) screen() string {
	var b strings.Builder
	title := "pcmk-trace top"
	switch {
	case m.paused:
		title += " [paused]"
	case m.ended:
		title += " [end of capture]"
	}
	if m.shown == nil {
		b.WriteString(topTitleStyle.Render(title) + "  waiting for the first interval...\n")
	} else {
		b.WriteString(topTitleStyle.Render(title) + "  " + m.header(m.shown) + "\n")
	}
	cols := m.columns()
	rows := m.rows()
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.name
		if i == m.sortCol {
			names[i] = map[bool]string{false: "▼", true: "▲"}[m.reverse] + c.name
		}
	}
	widths := columnWidths(cols, append(rows, topRow{cells: names}))
	b.WriteString(topHeadStyle.Render(m.fit(formatCells(cols, widths, names)+"  "+fmt.Sprintf("%-*s", analyse.TopHistory, "LAST 10"))) + "\n")
	lines := 2
	room := m.height - 4 - m.connLines()
	for i, r := range rows {
		if i >= room {
			b.WriteString(topDimStyle.Render(fmt.Sprintf("... %d more rows", len(rows)-i)) + "\n")
			lines++
			break
		}
		b.WriteString(m.fit(formatCells(cols, widths, r.cells)) + "  " + topSparkStyle.Render(sparkline(r.history, analyse.TopHistory)) + "\n")
		lines++
	}
	b.WriteString(m.connView())
	lines += m.connLines()
	for ; lines < m.height-1; lines++ {
		b.WriteString("\n")
	}
	b.WriteString(m.footer())
	return b.String()
}

// connLines is how many lines the backlog table takes.
func (m *topModel) connLines() int {
	if m.shown == nil || len(m.shown.Connections) == 0 {
		return 0
	}
	return min(len(m.shown.Connections), 5) + 2
}

// connView draws the largest backlogs, highlighted near the IPC limit.
func (m *topModel) connView() string {
	if m.connLines() == 0 {
		return ""
	}
	f := m.shown
	var b strings.Builder
	b.WriteString("\n" + topHeadStyle.Render(m.fit(fmt.Sprintf("%-44s %-10s %8s %8s  of limit %d", "CONNECTION", "SERVICE", "BACKLOG", "MAX", f.IPCLimit))) + "\n")
	for _, c := range f.Connections[:min(len(f.Connections), 5)] {
		line := m.fit(fmt.Sprintf("%-44s %-10s %8d %8d", c.Conn, c.Service, c.Backlog, c.Max))
		if m.hot(c, f.IPCLimit) {
			line = topHotStyle.Render(line)
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

// hot reports whether a connection's backlog is near the IPC limit.
func (m *topModel) hot(c analyse.TopConnection, limit int) bool {
	return float64(c.Backlog) >= topBacklogWarn*float64(limit)
}

func (m *topModel) footer() string {
	if m.editing {
		return "filter (service, operation, process): " + m.filter + "█  (enter: keep, esc: clear)"
	}
	var keys []string
	for _, c := range m.columns() {
		keys = append(keys, string(c.key)+":"+strings.ToLower(c.name))
	}
	view := "c clients"
	if m.clients {
		view = "c operations"
	}
	f := ""
	if m.filter != "" {
		f = "  [filter: " + m.filter + "]"
	}
	return topDimStyle.Render(m.fit("q quit  space pause  / filter  "+view+"  sort "+strings.Join(keys, " ")+" (twice: reverse)")) + f
}

// fit cuts a line to the terminal's width.
func (m *topModel) fit(s string) string {
	if r := []rune(s); m.width > 0 && len(r) > m.width {
		return string(r[:m.width])
	}
	return s
}

// runTopView runs the interactive view on the terminal until q, the end of ctx, or --count intervals.
func runTopView(ctx context.Context, o *topOptions, src *topSource) error {
	ctx, stop := src.launch(ctx)
	defer stop()
	m := newTopModel(src.frames, func(f *analyse.TopFrame) string { return topHeader(f, src) })
	m.failed, m.live, m.count = src.failed, src.live(), o.rec.count
	// bubbletea restores the terminal on return, on a panic in the view and
	// when ctx ends (SIGTERM, --duration).
	p := tea.NewProgram(m, tea.WithContext(ctx))
	_, err := p.Run()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		err = nil // ended by a signal or --duration
	}
	if err != nil {
		return fmt.Errorf("top: %w", err)
	}
	return src.failed()
}

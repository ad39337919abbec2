package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/pcmk-trace/pcmk-trace/analyse"
)

var topT0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// topTestFrame is an interval with three operations and two clients, n requests a second for cib_query.
func topTestFrame(n uint64) analyse.TopFrame {
	return analyse.TopFrame{
		Time: topT0, Width: time.Second, Messages: 2*n + 40, Bytes: 1000,
		Ops: []analyse.TopOp{
			{Service: "attrd", Op: "update", Requests: 20, Total: 20, Latencies: 20, P50: 70 * time.Microsecond, P99: 90 * time.Microsecond, History: []float64{20}},
			{Service: "cib_ro", Op: "cib_query", Requests: n, Total: 5 * n, Latencies: n, P50: 110 * time.Microsecond,
				P99: 2 * time.Millisecond, InFlight: 1, History: []float64{1, 2, 4, 8}},
			{Service: "cib_rw", Op: "cib_modify", Requests: 1, Total: 3, Errors: 2, History: []float64{1}},
		},
		Clients: []analyse.TopClient{
			{PID: 42, Comm: "cibload", Service: "cib_ro", Requests: n, Total: 5 * n},
			{PID: 7, Comm: "attrd_updater", Service: "attrd", Requests: 20, Total: 20},
		},
	}
}

func newTestTopModel() *topModel {
	m := newTopModel(nil, func(f *analyse.TopFrame) string { return "HEADER " + formatRate(f.PerSecond(f.Messages)) + " msg/s" })
	m.Update(tea.WindowSizeMsg{Width: 140, Height: 30})
	return m
}

// screen returns the model's view as plain text, and checks it asks for the alternate screen.
func screen(t *testing.T, m *topModel) string {
	t.Helper()
	v := m.View()
	if !v.AltScreen {
		t.Error("the view does not ask for the alternate screen")
	}
	return ansi.Strip(v.Content)
}

func send(m *topModel, keys ...string) {
	for _, k := range keys {
		var msg tea.KeyPressMsg
		switch k {
		case "enter":
			msg = tea.KeyPressMsg{Code: tea.KeyEnter}
		case "esc":
			msg = tea.KeyPressMsg{Code: tea.KeyEscape}
		case " ":
			msg = tea.KeyPressMsg{Code: tea.KeySpace, Text: " "}
		default:
			msg = tea.KeyPressMsg{Code: []rune(k)[0], Text: k}
		}
		m.Update(msg)
	}
}

// tableLines returns the view's lines that hold a row of the given first cells, in order.
func tableLines(view string, names ...string) []string {
	var out []string
	for _, l := range strings.Split(view, "\n") {
		for _, n := range names {
			if strings.Contains(l, n) {
				out = append(out, n)
				break
			}
		}
	}
	return out
}

func TestTopModelUpdatesAndSorts(t *testing.T) {
	m := newTestTopModel()
	if v := screen(t, m); !strings.Contains(v, "waiting for the first interval") {
		t.Errorf("before a frame:\n%s", v)
	}
	m.Update(frameMsg{topTestFrame(4000)})
	v := screen(t, m)
	if !strings.Contains(v, "HEADER 8040 msg/s") {
		t.Errorf("header:\n%s", v)
	}
	// By requests per second, largest first, by default.
	if got := tableLines(v, "update", "cib_query", "cib_modify"); strings.Join(got, ",") != "cib_query,update,cib_modify" {
		t.Errorf("default order %v:\n%s", got, v)
	}
	if !regexp.MustCompile(`cib_ro\s+cib_query\s+4000\s+20000\s+\S+\s+110µs\s+2ms\s+1\s+0`).MatchString(v) {
		t.Errorf("cib_query row:\n%s", v)
	}
	// o sorts by operation name; again, reversed.
	send(m, "o")
	if got := tableLines(screen(t, m), "update", "cib_query", "cib_modify"); strings.Join(got, ",") != "cib_modify,cib_query,update" {
		t.Errorf("by op %v", got)
	}
	send(m, "o")
	if got := tableLines(screen(t, m), "update", "cib_query", "cib_modify"); strings.Join(got, ",") != "update,cib_query,cib_modify" {
		t.Errorf("by op reversed %v", got)
	}
	send(m, "e") // errors, most first
	if got := tableLines(screen(t, m), "update", "cib_query", "cib_modify"); got[0] != "cib_modify" {
		t.Errorf("by errors %v", got)
	}
	// A new frame updates the row.
	m.Update(frameMsg{topTestFrame(5000)})
	if !regexp.MustCompile(`cib_query\s+5000\s+25000`).MatchString(screen(t, m)) {
		t.Errorf("after the second frame:\n%s", screen(t, m))
	}
	// The keys are shown at the bottom.
	if !strings.Contains(screen(t, m), "r:req/s") || !strings.Contains(screen(t, m), "q quit") {
		t.Errorf("footer:\n%s", screen(t, m))
	}
}

func TestTopModelFilterPauseClients(t *testing.T) {
	m := newTestTopModel()
	m.Update(frameMsg{topTestFrame(4000)})
	send(m, "/", "c", "i", "b", "enter") // typing: c is part of the filter, not the toggle
	v := screen(t, m)
	if got := tableLines(v, "update", "cib_query", "cib_modify"); strings.Join(got, ",") != "cib_query,cib_modify" {
		t.Errorf("filtered %v:\n%s", got, v)
	}
	if !strings.Contains(v, "[filter: cib]") {
		t.Errorf("filter not shown:\n%s", v)
	}
	send(m, "esc")
	if got := tableLines(screen(t, m), "update", "cib_query", "cib_modify"); len(got) != 3 {
		t.Errorf("after esc %v", got)
	}

	// Paused, the view keeps its frame; resumed, it shows the newest.
	send(m, " ")
	m.Update(frameMsg{topTestFrame(9000)})
	if v := screen(t, m); !strings.Contains(v, "[paused]") || strings.Contains(v, "9000") {
		t.Errorf("paused:\n%s", v)
	}
	send(m, " ")
	if v := screen(t, m); strings.Contains(v, "[paused]") || !strings.Contains(v, "9000") {
		t.Errorf("resumed:\n%s", v)
	}

	// c shows client processes; a filter matches their command name.
	send(m, "c")
	v = screen(t, m)
	if !regexp.MustCompile(`42\s+cibload\s+cib_ro\s+9000\s+45000`).MatchString(v) || !strings.Contains(v, "attrd_updater") {
		t.Errorf("clients:\n%s", v)
	}
	if strings.Contains(v, "cib_modify") {
		t.Errorf("clients view shows operations:\n%s", v)
	}
	send(m, "/", "u", "p", "d", "enter")
	if v := screen(t, m); strings.Contains(v, "cibload") || !strings.Contains(v, "attrd_updater") {
		t.Errorf("clients filtered:\n%s", v)
	}
	send(m, "esc", "c")
	if !strings.Contains(screen(t, m), "cib_modify") {
		t.Errorf("back to operations:\n%s", screen(t, m))
	}
	// q quits.
	if _, cmd := m.Update(tea.KeyPressMsg{Code: 'q', Text: "q"}); cmd == nil || cmd() != tea.Quit() {
		t.Errorf("q did not quit")
	}
}

func TestTopModelSourceEnd(t *testing.T) {
	m := newTestTopModel()
	m.Update(frameMsg{topTestFrame(1)})
	// A played file stays on screen; a live source's end ends the view.
	if _, cmd := m.Update(sourceEndMsg{}); cmd != nil || !strings.Contains(screen(t, m), "[end of capture]") {
		t.Errorf("file end: %v\n%s", cmd, screen(t, m))
	}
	m.live = true
	if _, cmd := m.Update(sourceEndMsg{}); cmd == nil || cmd() != tea.Quit() {
		t.Errorf("live end did not quit")
	}
}

func TestTopSparkline(t *testing.T) {
	for _, c := range []struct {
		rates []float64
		want  string
	}{
		{nil, "          "},
		{[]float64{0, 1, 2, 4, 8}, "      ▂▃▅█"},
		{[]float64{5, 5, 5, 5, 5, 5, 5, 5, 5, 5}, "██████████"},
		{[]float64{1, 0, 7}, "       ▂ █"},
	} {
		if got := sparkline(c.rates, 10); got != c.want {
			t.Errorf("sparkline(%v) = %q, want %q", c.rates, got, c.want)
		}
	}
}

// TestTopBacklogHighlight checks that the connections table appears with
// --rx's backlogs, the largest first.
func TestTopBacklogHighlight(t *testing.T) {
	m := newTestTopModel()
	f := topTestFrame(1)
	f.IPCLimit = 500
	f.Connections = []analyse.TopConnection{{Conn: "qb-1-2-3", Service: "cib_rw", Backlog: 450, Max: 470}, {Conn: "qb-4-5-6", Service: "crmd", Backlog: 3, Max: 9}}
	m.Update(frameMsg{f})
	v := screen(t, m)
	if !regexp.MustCompile(`(?s)of limit 500.*qb-1-2-3\s+cib_rw\s+450\s+470.*qb-4-5-6`).MatchString(v) {
		t.Errorf("backlogs:\n%s", v)
	}
	if !m.hot(f.Connections[0], 500) || m.hot(f.Connections[1], 500) {
		t.Errorf("highlight")
	}
}

// TestTopSourcePanic checks that a panic while reading becomes the source's
// error and ends the view, so the terminal is restored before it is shown.
func TestTopSourcePanic(t *testing.T) {
	s := &topSource{}
	cancelled := false
	s.guard(func() { cancelled = true }, func() { panic("boom") })
	err := s.failed()
	if !cancelled || err == nil || !strings.Contains(err.Error(), "panic: boom") {
		t.Fatalf("after a panic: cancelled %v, error %v", cancelled, err)
	}
	m := newTestTopModel()
	if _, cmd := m.Update(sourceEndMsg{err: err}); cmd == nil || cmd() != tea.Quit() {
		t.Errorf("a failed source did not end the view")
	}
}

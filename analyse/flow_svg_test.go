package analyse

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// flowSVGShape is what a test reads back from an SVG diagram.
type flowSVGShape struct {
	heads  []string // lifeline header texts, "comm pid N"
	arrows []string // arrow labels
	titles []string // arrow titles
	marks  []string // marker texts
	notes  []string
}

// flowParseSVG parses an SVG with encoding/xml, failing on malformed XML.
func flowParseSVG(t *testing.T, svg []byte) flowSVGShape {
	t.Helper()
	var s flowSVGShape
	d := xml.NewDecoder(bytes.NewReader(svg))
	var stack []string // classes of open elements
	var group string   // class of the innermost <g>
	var text, title strings.Builder
	var inText, inTitle bool
	var hasTitle bool
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			class := ""
			for _, a := range tok.Attr {
				if a.Name.Local == "class" {
					class = a.Value
				}
			}
			stack = append(stack, class)
			switch tok.Name.Local {
			case "g":
				group, hasTitle = class, false
			case "title":
				inTitle = true
				title.Reset()
			case "text":
				inText = true
				text.Reset()
			}
		case xml.CharData:
			if inTitle {
				title.Write(tok)
			} else if inText {
				text.Write(tok)
			}
		case xml.EndElement:
			class := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			switch tok.Name.Local {
			case "title":
				inTitle, hasTitle = false, true
				if strings.HasPrefix(group, "msg") {
					s.titles = append(s.titles, title.String())
				}
			case "text":
				inText = false
				switch {
				case class == "label" && strings.HasPrefix(group, "msg"):
					s.arrows = append(s.arrows, text.String())
				case class == "comm":
					s.heads = append(s.heads, text.String())
				case class == "pid":
					s.heads[len(s.heads)-1] += " " + text.String()
				case group == "marker":
					s.marks = append(s.marks, text.String())
				case group == "note":
					s.notes = append(s.notes, text.String())
				}
			case "g":
				if strings.HasPrefix(group, "msg") && !hasTitle {
					t.Errorf("an arrow (%s) has no title", group)
				}
				group = ""
			}
		}
	}
	return s
}

// TestFlowSVGCaptures checks the SVG of every regression capture: one
// header per lifeline, one arrow per selected message with its label and a
// title naming its seq.
func TestFlowSVGCaptures(t *testing.T) {
	for _, path := range flowCaptures(t) {
		t.Run(path, func(t *testing.T) {
			f, _ := flowBuild(t, path, decode.Filter{}, FlowOptions{Max: 500})
			var b bytes.Buffer
			if err := WriteFlowSVG(&b, f); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(path, "big-cib") {
				// Small enough to keep: the whole document, byte for byte.
				name := strings.TrimSuffix(filepath.Base(path), ".pcapng")
				flowGolden(t, filepath.Join("testdata", "flow", name+".svg.golden"), b.Bytes())
			}
			s := flowParseSVG(t, b.Bytes())
			if len(s.heads) != len(f.Lifelines) || len(f.Lifelines) < 3 {
				t.Errorf("%d lifeline headers, want %d (at least 3)", len(s.heads), len(f.Lifelines))
			}
			for i, l := range f.Lifelines {
				comm := l.Comm
				if comm == "" {
					comm = "?"
				}
				pid := "pid " + strconv.FormatUint(uint64(l.PID), 10)
				if l.Node != "" {
					pid = l.Node + " " + pid // a capture of several nodes
				}
				if want := comm + " " + pid; i < len(s.heads) && s.heads[i] != want {
					t.Errorf("header %d = %q, want %q", i, s.heads[i], want)
				}
			}
			if len(s.arrows) != len(f.Arrows) || len(s.arrows) != f.Selected || len(s.titles) != len(s.arrows) {
				t.Fatalf("%d arrows, %d titles, want %d (the selected messages)", len(s.arrows), len(s.titles), f.Selected)
			}
			for i, a := range f.Arrows {
				if s.arrows[i] != a.Label {
					t.Errorf("arrow %d label %q, want %q", i, s.arrows[i], a.Label)
				}
				if !strings.HasPrefix(s.titles[i], "#"+strconv.FormatUint(a.Msg.Seq, 10)+" ") || !strings.Contains(s.titles[i], "qb id ") {
					t.Errorf("arrow %d title %q lacks its seq or qb id", i, s.titles[i])
				}
			}
		})
	}
}

// TestFlowCapAndMarkers feeds made-up messages: the cap keeps Max arrows and
// counts the rest, loss records become markers, text needing escapes stays
// well-formed, and errors are marked.
func TestFlowCapAndMarkers(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	msgs := []*decode.Message{
		{Kind: decode.KindMessage, Seq: 1, Time: t0, PID: 1001, Comm: "cibadmin", Service: "cib_rw", Channel: capfile.ChannelRequest,
			ClientPID: 1001, ServerPID: 50, Conn: "c1", Op: `<&"op">`, Role: decode.RoleRequest},
		{Kind: decode.KindLoss, Seq: 2, Time: t0.Add(time.Millisecond), Lost: 7, Cause: capfile.LossRingFull},
		{Kind: decode.KindMessage, Seq: 3, Time: t0.Add(2 * time.Millisecond), PID: 50, Comm: "pacemaker-based", Service: "cib_rw",
			Channel: capfile.ChannelResponse, ClientPID: 1001, ServerPID: 50, Conn: "c1", Op: "cib_query", RC: "-6", Role: decode.RoleReply,
			ReplyTo: &decode.Pair{Seq: 1, Op: "cib_query", Latency: 2 * time.Millisecond}},
		{Kind: decode.KindMessage, Seq: 4, Time: t0.Add(3 * time.Millisecond), PID: 50, Comm: "pacemaker-based", Service: "cib_rw",
			Channel: capfile.ChannelEvent, ClientPID: 1001, ServerPID: 50, Conn: "c1", Op: "cib_diff_notify", Role: decode.RoleNotification},
	}
	b := NewFlowBuilder(FlowOptions{Max: 3})
	for _, m := range msgs {
		b.Add(m)
	}
	f := b.Flow()
	if len(f.Arrows) != 3 || f.Selected != 4 || !f.Cut() {
		t.Fatalf("%d arrows of %d selected, want 3 of 4", len(f.Arrows), f.Selected)
	}
	if got := []string{f.Lifelines[0].Name(), f.Lifelines[1].Name()}; got[0] != "pacemaker-based[50]" || got[1] != "cibadmin[1001]" {
		t.Errorf("lifelines %v, want the daemon first", got)
	}
	if a := f.Arrows[1]; a.Kind != ArrowLoss || a.Label != "7 messages lost by the recorder (ring_full)" {
		t.Errorf("loss arrow %+v", a)
	}
	if a := f.Arrows[2]; a.Kind != ArrowReply || !a.Error || a.Label != "cib_query 2.00ms rc=-6" || a.Pair != 0 || f.Arrows[0].Pair != 2 {
		t.Errorf("reply arrow: kind %d error %v label %q pair %d", a.Kind, a.Error, a.Label, a.Pair)
	}

	var svg, text, mermaid bytes.Buffer
	if err := WriteFlowSVG(&svg, f); err != nil {
		t.Fatal(err)
	}
	s := flowParseSVG(t, svg.Bytes())
	if len(s.arrows) != 2 || s.arrows[0] != `<&"op">` || len(s.marks) != 1 || len(s.notes) != 1 || !strings.Contains(s.notes[0], "1 more") {
		t.Errorf("SVG: arrows %q, markers %q, notes %q", s.arrows, s.marks, s.notes)
	}
	if !strings.Contains(svg.String(), `class="msg rep err"`) {
		t.Error("SVG: the failed reply is not marked as an error")
	}
	if err := WriteFlowText(&text, f, 100); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "!! 7 messages lost") || !strings.Contains(text.String(), "x|") || !strings.Contains(text.String(), "# ... 1 more not shown") {
		t.Errorf("text lacks the marker, the error head or the cut:\n%s", text.String())
	}
	if err := WriteFlowMermaid(&mermaid, f); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"\n    L1->>L0: #lt;&\"op\"#gt;\n", "\n    Note over L0,L1: 7 messages lost", "\n    L0--xL1: cib_query 2.00ms rc=-6\n"} {
		if !strings.Contains(mermaid.String(), want) {
			t.Errorf("mermaid lacks %q:\n%s", want, mermaid.String())
		}
	}
}

package analyse

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// SVG layout, in pixels.
const (
	flowSVGLeft   = 112 // time and seq margin
	flowSVGCol    = 160 // between lifelines
	flowSVGHead   = 44  // lifeline header box
	flowSVGRow    = 26  // between arrows
	flowSVGNote   = 22  // one note line above the diagram
	flowSVGMargin = 12
	flowSVGBar    = 8 // activation bar width
)

const flowSVGStyle = `
svg { font-family: "DejaVu Sans", "Segoe UI", Helvetica, Arial, sans-serif; font-size: 11px; }
.bg { fill: #ffffff; }
.stripe { fill: #f5f7fa; }
.life { stroke: #aab4c3; stroke-width: 1; stroke-dasharray: 4 3; }
.head rect { fill: #e9eff8; stroke: #5b77a8; stroke-width: 1; }
.head.daemon rect { fill: #e4f2e6; stroke: #4e8a5a; }
.head .comm { font-weight: bold; fill: #1d2533; text-anchor: middle; }
.head .pid { fill: #55606f; font-size: 10px; text-anchor: middle; }
.act { fill: #dde6f3; stroke: #5b77a8; stroke-width: 0.8; }
.time { fill: #6b7685; font-size: 10px; text-anchor: end; }
.seq { fill: #9aa3af; font-size: 10px; text-anchor: start; }
.msg line, .msg path { fill: none; stroke-width: 1.4; }
.req line, .req path { stroke: #1f4e96; }
.rep line, .rep path { stroke: #2d7d46; stroke-dasharray: 6 3; }
.evt line, .evt path { stroke: #8a4fb0; stroke-dasharray: 2 3; }
.err line, .err path { stroke: #c62828; stroke-width: 1.8; }
.label { fill: #1d2533; text-anchor: middle; paint-order: stroke; stroke: #ffffff; stroke-width: 3px; stroke-linejoin: round; }
.rep .label { fill: #22603a; }
.evt .label { fill: #6d3a8f; font-style: italic; }
.err .label { fill: #c62828; font-weight: bold; }
.msg:hover line, .msg:hover path { stroke-width: 3; }
.msg:hover .label { font-weight: bold; }
.marker rect { fill: #fdecea; stroke: #c62828; stroke-width: 1; }
.marker text { fill: #b71c1c; font-weight: bold; text-anchor: middle; }
.note rect { fill: #fff8dc; stroke: #c9a227; stroke-width: 1; }
.note text { fill: #5c4a00; }
.hreq { fill: #1f4e96; } .hrep { fill: #2d7d46; } .herr { fill: #c62828; }
.hevt { fill: none; stroke: #8a4fb0; stroke-width: 1.3; }
`

// WriteFlowSVG writes f as a standalone SVG document: lifeline headers at
// the top, time in ms since the first arrow on the left, requests solid,
// replies dashed with the server's activation bar from request to reply,
// events dotted with an open head, failures red, markers as red bands
// across the diagram. Each arrow is a <g> whose <title> holds the message's
// details, which browsers show on hover. Times in titles are UTC.
func WriteFlowSVG(w io.Writer, f *Flow) error {
	bw := bufio.NewWriter(w)
	n := len(f.Lifelines)
	notes := f.Notes
	rows := len(f.Arrows)
	if f.Cut() {
		rows++ // the last row says how many more
	}
	top := flowSVGMargin + len(notes)*flowSVGNote
	headY := top
	firstY := headY + flowSVGHead + flowSVGRow
	width := flowSVGLeft + max(n, 1)*flowSVGCol + flowSVGMargin
	height := firstY + rows*flowSVGRow + flowSVGMargin
	x := func(i int) int { return flowSVGLeft + i*flowSVGCol + flowSVGCol/2 }
	y := func(i int) int { return firstY + i*flowSVGRow }

	fmt.Fprintf(bw, `<?xml version="1.0" encoding="UTF-8"?>`+"\n")
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">`+"\n", width, height, width, height)
	fmt.Fprintf(bw, "<style>%s</style>\n", flowSVGStyle)
	bw.WriteString(`<defs>
<marker id="hreq" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path class="hreq" d="M0,0 L10,5 L0,10 z"/></marker>
<marker id="hrep" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path class="hrep" d="M0,0 L10,5 L0,10 z"/></marker>
<marker id="herr" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path class="herr" d="M0,0 L10,5 L0,10 z"/></marker>
<marker id="hevt" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path class="hevt" d="M1,1 L10,5 L1,9"/></marker>
</defs>
`)
	fmt.Fprintf(bw, `<rect class="bg" x="0" y="0" width="%d" height="%d"/>`+"\n", width, height)
	for i, s := range notes {
		ny := flowSVGMargin + i*flowSVGNote
		fmt.Fprintf(bw, `<g class="note"><rect x="%d" y="%d" width="%d" height="%d" rx="3"/><text x="%d" y="%d">%s</text></g>`+"\n",
			flowSVGMargin, ny, width-2*flowSVGMargin, flowSVGNote-4, flowSVGMargin+8, ny+13, flowXML(s))
	}
	for i := range f.Arrows {
		if i%2 == 1 {
			fmt.Fprintf(bw, `<rect class="stripe" x="0" y="%d" width="%d" height="%d"/>`+"\n", y(i)-flowSVGRow/2-3, width, flowSVGRow)
		}
	}
	fmt.Fprintf(bw, `<text class="time" x="%d" y="%d">ms</text><text class="seq" x="%d" y="%d">seq</text>`+"\n",
		flowSVGLeft-48, firstY-flowSVGRow+4, flowSVGLeft-44, firstY-flowSVGRow+4)
	for i, l := range f.Lifelines {
		class := "head"
		if l.rank < flowClientRank {
			class += " daemon"
		}
		fmt.Fprintf(bw, `<line class="life" x1="%d" y1="%d" x2="%d" y2="%d"/>`+"\n", x(i), headY+flowSVGHead, x(i), height-flowSVGMargin)
		fmt.Fprintf(bw, `<g class="%s"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="5"/>`, class, flowXML(flowLifelineTitle(l)),
			x(i)-flowSVGCol/2+6, headY, flowSVGCol-12, flowSVGHead-8)
		comm := l.Comm
		if comm == "" {
			comm = "?"
		}
		pid := "pid " + strconv.FormatUint(uint64(l.PID), 10)
		if l.Node != "" {
			pid = l.Node + " " + pid
		}
		fmt.Fprintf(bw, `<text class="comm" x="%d" y="%d">%s</text><text class="pid" x="%d" y="%d">%s</text></g>`+"\n",
			x(i), headY+16, flowXML(comm), x(i), headY+30, flowXML(pid))
	}
	flowSVGActivations(bw, f, x, y)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		m := &a.Msg
		ay := y(i)
		if !m.Time.IsZero() && !f.Start.IsZero() {
			fmt.Fprintf(bw, `<text class="time" x="%d" y="%d">%.3f</text>`, flowSVGLeft-48, ay+4, float64(m.Time.Sub(f.Start).Nanoseconds())/1e6)
		}
		fmt.Fprintf(bw, `<text class="seq" x="%d" y="%d">#%d</text>`+"\n", flowSVGLeft-44, ay+4, m.Seq)
		if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
			fmt.Fprintf(bw, `<g class="marker"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" rx="3"/><text x="%d" y="%d">%s</text></g>`+"\n",
				flowXML(flowArrowTitle(f, a)), flowSVGLeft, ay-9, n*flowSVGCol, 18, flowSVGLeft+n*flowSVGCol/2, ay+4, flowXML("! "+a.Label))
			continue
		}
		class, head := "req", "hreq"
		switch a.Kind {
		case ArrowReply:
			class, head = "rep", "hrep"
		case ArrowEvent:
			class, head = "evt", "hevt"
		}
		if a.Error {
			class += " err"
			head = "herr"
		}
		fmt.Fprintf(bw, `<g class="msg %s" id="m%d"><title>%s</title>`, class, m.Seq, flowXML(flowArrowTitle(f, a)))
		x1, x2 := x(a.From), x(a.To)
		if a.From == a.To {
			fmt.Fprintf(bw, `<path d="M%d,%d h30 v10 h-28" marker-end="url(#%s)"/><text class="label" x="%d" y="%d" style="text-anchor:start">%s</text></g>`+"\n",
				x1, ay-6, head, x1+36, ay+4, flowXML(a.Label))
			continue
		}
		// Stop at the server's activation bar edge rather than under it.
		if x2 > x1 {
			x2 -= flowSVGBar / 2
		} else {
			x2 += flowSVGBar / 2
		}
		fmt.Fprintf(bw, `<line x1="%d" y1="%d" x2="%d" y2="%d" marker-end="url(#%s)"/><text class="label" x="%d" y="%d">%s</text></g>`+"\n",
			x1, ay, x2, ay, head, (x1+x2)/2, ay-5, flowXML(a.Label))
	}
	if f.Cut() {
		fmt.Fprintf(bw, `<g class="note"><rect x="%d" y="%d" width="%d" height="%d" rx="3"/><text x="%d" y="%d">… %d more selected messages not shown</text></g>`+"\n",
			flowSVGLeft, y(len(f.Arrows))-9, n*flowSVGCol, 18, flowSVGLeft+8, y(len(f.Arrows))+4, f.Selected-len(f.Arrows))
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// flowSVGActivations draws the server's bar from each request to its first
// answer; bars that overlap on one lifeline step to the right.
func flowSVGActivations(w io.Writer, f *Flow, x, y func(int) int) {
	open := make(map[int][]int) // lifeline: end rows of its bars still drawn
	for i := range f.Arrows {
		a := &f.Arrows[i]
		if a.Kind != ArrowRequest || a.Pair < 0 || a.From == a.To {
			continue
		}
		end := a.Pair
		ends := open[a.To][:0]
		for _, e := range open[a.To] {
			if e > i {
				ends = append(ends, e)
			}
		}
		depth := len(ends)
		open[a.To] = append(ends, end)
		fmt.Fprintf(w, `<rect class="act" x="%d" y="%d" width="%d" height="%d"/>`+"\n",
			x(a.To)-flowSVGBar/2+depth*3, y(i), flowSVGBar, y(end)-y(i))
	}
}

// flowLifelineTitle is the hover text of a lifeline's header.
func flowLifelineTitle(l Lifeline) string {
	s := l.Name()
	if l.HostPID != 0 {
		s += "\npid " + strconv.FormatUint(uint64(l.HostPID), 10) + " as the recorder saw it"
	}
	return s
}

// flowArrowTitle is the hover text of an arrow: the message's details.
func flowArrowTitle(f *Flow, a *Arrow) string {
	m := &a.Msg
	var b strings.Builder
	fmt.Fprintf(&b, "#%d", m.Seq)
	if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
		fmt.Fprintf(&b, " %s", a.Label)
	} else {
		role := m.Role.String()
		if role == "" {
			role = decode.ChannelName(m.Channel)
		}
		fmt.Fprintf(&b, " %s %s", role, a.Label)
		fmt.Fprintf(&b, "\n%s → %s", f.Lifelines[a.From].Name(), f.Lifelines[a.To].Name())
	}
	if !m.Time.IsZero() {
		fmt.Fprintf(&b, "\ntime %s", m.Time.UTC().Format(time.RFC3339Nano))
		if !f.Start.IsZero() {
			fmt.Fprintf(&b, " (+%.3f ms)", float64(m.Time.Sub(f.Start).Nanoseconds())/1e6)
		}
	}
	if m.Packet > 0 {
		fmt.Fprintf(&b, "\npacket %d", m.Packet)
	}
	if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
		return b.String()
	}
	fmt.Fprintf(&b, "\nservice %s, channel %s, connection %s", m.Service, decode.ChannelName(m.Channel), m.Conn)
	fmt.Fprintf(&b, "\nqb id %d, %d bytes", m.QBID, m.Size)
	if m.QBError != 0 {
		fmt.Fprintf(&b, ", qb error %d", m.QBError)
	}
	if m.Dialect != decode.DialectAuto {
		fmt.Fprintf(&b, ", dialect %s", m.Dialect)
		if m.Flags != 0 {
			fmt.Fprintf(&b, ", flags %s", m.Flags.Format(m.Dialect))
		}
	}
	if m.Parts > 1 {
		fmt.Fprintf(&b, ", %d parts", m.Parts)
	}
	if m.Compressed {
		b.WriteString(", bzip2")
	}
	if m.Truncated {
		fmt.Fprintf(&b, ", truncated (%d of %d bytes of XML captured)", len(m.XML), m.XMLBytes)
	}
	if m.CallID != "" {
		fmt.Fprintf(&b, "\ncall id %s", m.CallID)
	}
	if m.RC != "" {
		fmt.Fprintf(&b, "\nrc %s", m.RC)
	}
	if p := m.ReplyTo; p != nil {
		fmt.Fprintf(&b, "\nanswers #%d %s after %s (paired by %s)", p.Seq, p.Op, p.Latency, p.By)
	}
	if a.Kind == ArrowRequest && a.Pair >= 0 {
		r := &f.Arrows[a.Pair].Msg
		fmt.Fprintf(&b, "\nanswered by #%d after %s", r.Seq, r.Time.Sub(m.Time))
	}
	if m.Err != nil {
		fmt.Fprintf(&b, "\nerror: %v", m.Err)
	}
	return b.String()
}

// flowXML escapes s for XML text and attribute values.
func flowXML(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // a strings.Builder does not fail
	return b.String()
}

package analyse

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// flowActivations returns, per arrow index, whether the arrow starts (+1) or
// ends (-1) its receiver's activation: a request whose first answer is shown
// activates the server until that answer.
func flowActivations(f *Flow) map[int]int {
	act := make(map[int]int)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		if a.Kind != ArrowRequest || a.Pair < 0 || a.From == a.To {
			continue
		}
		if r := &f.Arrows[a.Pair]; r.From == a.To && r.Pair == i {
			act[i], act[a.Pair] = 1, -1
		}
	}
	return act
}

// WriteFlowMermaid writes f as a Mermaid sequenceDiagram, as GitHub and
// GitLab render in Markdown: requests as ->>, replies as -->>, events as
// --), a failed answer ending in x, markers and notes as notes over all
// lifelines, and the server activated from a request to its answer.
func WriteFlowMermaid(w io.Writer, f *Flow) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "sequenceDiagram")
	for i, l := range f.Lifelines {
		fmt.Fprintf(bw, "    participant L%d as %s\n", i, flowMermaidText(l.Name()))
	}
	span := "L0"
	if len(f.Lifelines) == 0 {
		fmt.Fprintln(bw, "    participant L0 as recorder")
	} else if len(f.Lifelines) > 1 {
		span = "L0,L" + strconv.Itoa(len(f.Lifelines)-1)
	}
	for _, n := range f.Notes {
		fmt.Fprintf(bw, "    Note over %s: %s\n", span, flowMermaidText(n))
	}
	act := flowActivations(f)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
			fmt.Fprintf(bw, "    Note over %s: %s\n", span, flowMermaidText(a.Label))
			continue
		}
		arrow := map[ArrowKind]string{ArrowRequest: "->>", ArrowReply: "-->>", ArrowEvent: "--)"}[a.Kind]
		if a.Error {
			arrow = map[ArrowKind]string{ArrowRequest: "-x", ArrowReply: "--x", ArrowEvent: "--x"}[a.Kind]
		}
		fmt.Fprintf(bw, "    L%d%sL%d: %s\n", a.From, arrow, a.To, flowMermaidText(a.Label))
		switch act[i] {
		case 1:
			fmt.Fprintf(bw, "    activate L%d\n", a.To)
		case -1:
			fmt.Fprintf(bw, "    deactivate L%d\n", a.From)
		}
	}
	if f.Cut() {
		fmt.Fprintf(bw, "    Note over %s: %d more not shown\n", span, f.Selected-len(f.Arrows))
	}
	return bw.Flush()
}

// flowMermaidText escapes what Mermaid would read as syntax or markup.
var flowMermaidText = strings.NewReplacer(
	"#", "#35;", ";", "#59;", "<", "#lt;", ">", "#gt;", "\n", " ", "\r", " ",
).Replace

// WriteFlowPlantUML writes f as a PlantUML sequence diagram: requests as
// ->, replies as -->, events as ->> (open head), failures in red, markers
// as dividers, and the server activated from a request to its answer.
func WriteFlowPlantUML(w io.Writer, f *Flow) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "@startuml")
	fmt.Fprintln(bw, "skinparam sequenceMessageAlign center")
	for i, l := range f.Lifelines {
		fmt.Fprintf(bw, "participant \"%s\" as L%d\n", flowPlantUMLText(l.Name()), i)
	}
	span := "L0"
	if len(f.Lifelines) == 0 {
		fmt.Fprintln(bw, "participant recorder as L0")
	} else if len(f.Lifelines) > 1 {
		span = "L0, L" + strconv.Itoa(len(f.Lifelines)-1)
	}
	for _, n := range f.Notes {
		fmt.Fprintf(bw, "note over %s : %s\n", span, flowPlantUMLText(n))
	}
	act := flowActivations(f)
	for i := range f.Arrows {
		a := &f.Arrows[i]
		if a.Kind == ArrowLoss || a.Kind == ArrowInvalid {
			fmt.Fprintf(bw, "== %s ==\n", flowPlantUMLText(a.Label))
			continue
		}
		arrow := map[ArrowKind]string{ArrowRequest: "->", ArrowReply: "-->", ArrowEvent: "->>"}[a.Kind]
		if a.Error {
			arrow = map[ArrowKind]string{ArrowRequest: "-[#red]>", ArrowReply: "-[#red]->", ArrowEvent: "-[#red]>>"}[a.Kind]
		}
		label := flowPlantUMLText(a.Label)
		if a.Error {
			label = "<color:red>" + label + "</color>"
		}
		fmt.Fprintf(bw, "L%d %s L%d : %s\n", a.From, arrow, a.To, label)
		switch act[i] {
		case 1:
			fmt.Fprintf(bw, "activate L%d\n", a.To)
		case -1:
			fmt.Fprintf(bw, "deactivate L%d\n", a.From)
		}
	}
	if f.Cut() {
		fmt.Fprintf(bw, "note over %s : %d more not shown\n", span, f.Selected-len(f.Arrows))
	}
	fmt.Fprintln(bw, "@enduml")
	return bw.Flush()
}

// flowPlantUMLText keeps PlantUML from reading text as creole markup,
// escapes or line breaks.
var flowPlantUMLText = strings.NewReplacer(
	"\"", "'", "\\", "\\\\", "~", "~~", "<", "~<", "**", "*~*", "//", "/~/", "__", "_~_", "--", "-~-", "==", "=~=",
	"\n", " ", "\r", " ",
).Replace

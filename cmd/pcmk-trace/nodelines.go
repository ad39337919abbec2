package main

import (
	"fmt"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// nodeLines describes where a capture was recorded, for the top of decode's text output:
// one line per node of a merged capture, or the node of a capture that names one. Captures
// that name no node give none, so their output is as it always was.
func nodeLines(r *capfile.Reader) []string {
	if ifs := r.Interfaces(); len(ifs) > 0 {
		lines := make([]string, len(ifs))
		for i, f := range ifs {
			lines[i] = describeNode(f.Node, f.Host, f.NodeID, f.BootID)
			if f.Offset != 0 || f.OffsetError != 0 {
				lines[i] += fmt.Sprintf(", clock offset %s", f.Offset)
				if f.OffsetError != 0 {
					lines[i] += fmt.Sprintf(" ± %s", f.OffsetError)
				}
			}
		}
		return lines
	}
	s := r.Section()
	if s.Node == "" && s.BootID == "" {
		return nil
	}
	return []string{describeNode(s.Node, s.Host, s.NodeID, s.BootID)}
}

func describeNode(node, host string, id uint32, boot string) string {
	var parts []string
	if node == "" {
		node = "(unknown)"
	}
	if id != 0 {
		parts = append(parts, fmt.Sprintf("node id %d", id))
	}
	if host != "" {
		parts = append(parts, "host "+host)
	}
	if boot != "" {
		parts = append(parts, "boot "+boot)
	}
	return "node " + node + ": " + strings.Join(parts, ", ")
}

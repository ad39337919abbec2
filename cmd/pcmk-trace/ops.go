package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// opFilter selects messages by operation (--op) after decode's other filters,
// as decode.Filter would (its operation test comes last), and remembers the
// operations it saw, so that an --op no message had can be told.
type opFilter struct {
	ops  []string
	seen map[string]bool
}

func newOpFilter(ops []string) *opFilter {
	return &opFilter{ops: ops, seen: map[string]bool{}}
}

// match reports whether m is one of the operations, or a reply to one.
func (f *opFilter) match(m *decode.Message) bool {
	if len(f.ops) == 0 || m.Kind != decode.KindMessage {
		return true
	}
	if m.Op != "" && !f.seen[m.Op] {
		f.seen[m.Op] = true
	}
	return slices.Contains(f.ops, m.Op) || (m.ReplyTo != nil && slices.Contains(f.ops, m.ReplyTo.Op))
}

// warnUnknownOps warns on w of each operation in ops that seen lacks, naming those seen.
func warnUnknownOps(w io.Writer, cmd, name string, ops []string, seen map[string]bool) {
	for _, op := range ops {
		if seen[op] {
			continue
		}
		list := slices.Sorted(maps.Keys(seen))
		if len(list) == 0 {
			fmt.Fprintf(w, "pcmk-trace: %s: warning: %s: no operation %q; the messages selected name no operation\n", cmd, name, op)
			continue
		}
		fmt.Fprintf(w, "pcmk-trace: %s: warning: %s: no operation %q; seen: %s\n", cmd, name, op, strings.Join(list, ", "))
	}
}

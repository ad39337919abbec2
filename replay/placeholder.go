package replay

import (
	"regexp"

	"github.com/pcmk-trace/pcmk-trace/redact"
)

// placeholderRE finds redaction placeholders inside a longer value.
var placeholderRE = regexp.MustCompile(`\*[a-z0-9]*\*`)

// withPlaceholders returns a copy of m that also treats redaction
// placeholders in recorded replies as wildcards (MASK.md): the secret
// they stand for was sent live, so it differs from the placeholder.
func (m *Mask) withPlaceholders() *Mask {
	c := *m
	c.placeholders = true
	return &c
}

// placeholderMatch reports whether a recorded value that differs from the
// live one is explained by redaction: the recorded value is a placeholder
// (any live value matches), or it holds placeholders and the live value is
// the same around them, with as many bytes under each.
func placeholderMatch(recorded, live string) bool {
	if redact.IsPlaceholder(recorded) {
		return true
	}
	locs := placeholderRE.FindAllStringIndex(recorded, -1)
	if len(locs) == 0 || len(recorded) != len(live) {
		return false
	}
	prev := 0
	for _, l := range locs {
		if recorded[prev:l[0]] != live[prev:l[0]] {
			return false
		}
		prev = l[1]
	}
	return recorded[prev:] == live[prev:]
}

// dropPlaceholderDiffs removes the changes that placeholders explain.
func dropPlaceholderDiffs(diffs []Diff) []Diff {
	out := diffs[:0]
	for _, d := range diffs {
		if d.Kind == DiffChanged && placeholderMatch(d.Recorded, d.Live) {
			continue
		}
		out = append(out, d)
	}
	return out
}

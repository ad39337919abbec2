package replay

import (
	"fmt"
	"sort"
	"strings"

	"github.com/beevik/etree"
)

// DiffKind says how a part of the live reply differs from the recorded one.
type DiffKind string

const (
	DiffChanged DiffKind = "changed" // an attribute value, a text or the root element's name
	DiffRemoved DiffKind = "removed" // in the recorded reply only
	DiffAdded   DiffKind = "added"   // in the live reply only
)

// A Diff is one difference between a recorded reply and the live one, after masking.
type Diff struct {
	Reply string   // which reply: "response", or "event 1", "event 2", ... in arrival order
	Kind  DiffKind // changed, removed or added
	// Path locates the element, attribute (.../@name) or text (.../text()):
	// /cib-reply/cib_calldata/cib/configuration/crm_config/cluster_property_set[@id='x'].
	// Elements are named by their id attribute when they have one, else by their position
	// among siblings of the same name when there are several.
	Path     string
	Recorded string // the recorded value or element, "" when added
	Live     string // the live value or element, "" when removed
}

// String formats d on one line.
func (d Diff) String() string {
	switch d.Kind {
	case DiffRemoved:
		return fmt.Sprintf("- %s: recorded %s, not live", d.Path, quoteDiff(d.Recorded))
	case DiffAdded:
		return fmt.Sprintf("+ %s: live %s, not recorded", d.Path, quoteDiff(d.Live))
	}
	return fmt.Sprintf("~ %s: recorded %s, live %s", d.Path, quoteDiff(d.Recorded), quoteDiff(d.Live))
}

func quoteDiff(s string) string {
	if strings.HasPrefix(s, "<") {
		return s
	}
	return fmt.Sprintf("%q", s)
}

// CompareXML parses two replies, applies mask to both (nil means no mask) and returns
// their differences, none when they are equal. It fails when either is not XML.
func CompareXML(recorded, live []byte, mask *Mask) ([]Diff, error) {
	r, err := parseRoot(recorded)
	if err != nil {
		return nil, fmt.Errorf("recorded reply: %w", err)
	}
	l, err := parseRoot(live)
	if err != nil {
		return nil, fmt.Errorf("live reply: %w", err)
	}
	if mask != nil {
		mask.apply(r)
		mask.apply(l)
	}
	var out []Diff
	if r.Tag != l.Tag {
		return append(out, Diff{Kind: DiffChanged, Path: "/", Recorded: r.Tag, Live: l.Tag}), nil
	}
	diffElement(&out, "/"+r.FullTag(), r, l)
	if mask != nil && mask.placeholders {
		out = dropPlaceholderDiffs(out)
	}
	return out, nil
}

func parseRoot(text []byte) (*etree.Element, error) {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(text); err != nil {
		return nil, err
	}
	root := doc.Root()
	if root == nil {
		return nil, fmt.Errorf("no root element")
	}
	return root, nil
}

// diffElement compares two elements of the same name at path.
func diffElement(out *[]Diff, path string, r, l *etree.Element) {
	ra, la := attrMap(r), attrMap(l)
	for _, k := range sortedKeys(ra) {
		lv, ok := la[k]
		switch {
		case !ok:
			*out = append(*out, Diff{Kind: DiffRemoved, Path: path + "/@" + k, Recorded: ra[k]})
		case lv != ra[k]:
			*out = append(*out, Diff{Kind: DiffChanged, Path: path + "/@" + k, Recorded: ra[k], Live: lv})
		}
	}
	for _, k := range sortedKeys(la) {
		if _, ok := ra[k]; !ok {
			*out = append(*out, Diff{Kind: DiffAdded, Path: path + "/@" + k, Live: la[k]})
		}
	}
	if rt, lt := strings.TrimSpace(r.Text()), strings.TrimSpace(l.Text()); rt != lt {
		*out = append(*out, Diff{Kind: DiffChanged, Path: path + "/text()", Recorded: rt, Live: lt})
	}
	rc, lc := r.ChildElements(), l.ChildElements()
	rs, ls := steps(rc), steps(lc)
	for _, p := range alignChildren(rc, lc) {
		switch {
		case p.l < 0:
			*out = append(*out, Diff{Kind: DiffRemoved, Path: path + "/" + rs[p.r], Recorded: serialize(rc[p.r])})
		case p.r < 0:
			*out = append(*out, Diff{Kind: DiffAdded, Path: path + "/" + ls[p.l], Live: serialize(lc[p.l])})
		default:
			diffElement(out, path+"/"+rs[p.r], rc[p.r], lc[p.l])
		}
	}
}

func attrMap(el *etree.Element) map[string]string {
	m := make(map[string]string, len(el.Attr))
	for _, a := range el.Attr {
		m[a.FullKey()] = a.Value
	}
	return m
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// steps names each child for a path: tag[@id='x'] when it has an id, tag[n] when
// siblings share its name, else tag.
func steps(children []*etree.Element) []string {
	count := map[string]int{}
	for _, c := range children {
		count[c.FullTag()]++
	}
	seen := map[string]int{}
	out := make([]string, len(children))
	for i, c := range children {
		tag := c.FullTag()
		seen[tag]++
		switch id := c.SelectAttr("id"); {
		case id != nil:
			out[i] = fmt.Sprintf("%s[@id='%s']", tag, id.Value)
		case count[tag] > 1:
			out[i] = fmt.Sprintf("%s[%d]", tag, seen[tag])
		default:
			out[i] = tag
		}
	}
	return out
}

// childKey identifies a child across the two sides: its name and id.
func childKey(el *etree.Element) string {
	if id := el.SelectAttr("id"); id != nil {
		return el.FullTag() + "\x00" + id.Value
	}
	return el.FullTag()
}

type pairing struct{ r, l int } // index on each side, -1 when absent

// maxLCS bounds the longest-common-subsequence table; longer child lists are aligned
// greedily by key.
const maxLCS = 4 << 20

// alignChildren pairs the children of two elements in document order: a longest common
// subsequence of their keys, then, inside each gap, children of the same name without
// ids in order (so a changed element without id is compared, not shown removed and
// added). The result lists every child of both sides once, in order.
func alignChildren(rc, lc []*etree.Element) []pairing {
	rk, lk := make([]string, len(rc)), make([]string, len(lc))
	for i, c := range rc {
		rk[i] = childKey(c)
	}
	for i, c := range lc {
		lk[i] = childKey(c)
	}
	var matches []pairing
	if len(rk)*len(lk) <= maxLCS {
		matches = lcs(rk, lk)
	} else {
		matches = greedy(rk, lk)
	}
	var out []pairing
	i, j := 0, 0
	flush := func(iEnd, jEnd int) {
		// the gap rc[i:iEnd], lc[j:jEnd]: pair same-name children without ids in order
		used := make([]bool, jEnd-j)
		for a := i; a < iEnd; a++ {
			match := -1
			if rc[a].SelectAttr("id") == nil {
				for b := j; b < jEnd; b++ {
					if !used[b-j] && lk[b] == rk[a] {
						match = b
						break
					}
				}
			}
			if match >= 0 {
				used[match-j] = true
				// first the live-only children before it, to keep live order
				for b := j; b < match; b++ {
					if !used[b-j] {
						used[b-j] = true
						out = append(out, pairing{-1, b})
					}
				}
				out = append(out, pairing{a, match})
			} else {
				out = append(out, pairing{a, -1})
			}
		}
		for b := j; b < jEnd; b++ {
			if !used[b-j] {
				out = append(out, pairing{-1, b})
			}
		}
		i, j = iEnd, jEnd
	}
	for _, m := range matches {
		flush(m.r, m.l)
		out = append(out, m)
		i, j = m.r+1, m.l+1
	}
	flush(len(rc), len(lc))
	return out
}

// lcs returns the index pairs of a longest common subsequence of a and b.
func lcs(a, b []string) []pairing {
	n, m := len(a), len(b)
	if n == 0 || m == 0 {
		return nil
	}
	// t[i][j] = LCS length of a[i:], b[j:]
	t := make([]int32, (n+1)*(m+1))
	w := m + 1
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				t[i*w+j] = t[(i+1)*w+j+1] + 1
			} else {
				t[i*w+j] = max(t[(i+1)*w+j], t[i*w+j+1])
			}
		}
	}
	var out []pairing
	for i, j := 0, 0; i < n && j < m; {
		switch {
		case a[i] == b[j]:
			out = append(out, pairing{i, j})
			i++
			j++
		case t[(i+1)*w+j] >= t[i*w+j+1]:
			i++
		default:
			j++
		}
	}
	return out
}

// greedy matches keys in order, each recorded child with the first unused live child of
// the same key after the previous match.
func greedy(a, b []string) []pairing {
	pos := map[string][]int{}
	for j, k := range b {
		pos[k] = append(pos[k], j)
	}
	var out []pairing
	last := -1
	for i, k := range a {
		list := pos[k]
		for len(list) > 0 && list[0] <= last {
			list = list[1:]
		}
		if len(list) == 0 {
			pos[k] = nil
			continue
		}
		out = append(out, pairing{i, list[0]})
		last = list[0]
		pos[k] = list[1:]
	}
	return out
}

// serialize writes an element (with its masked parts already gone) as compact XML.
func serialize(el *etree.Element) string {
	doc := etree.NewDocument()
	doc.SetRoot(el.Copy())
	s, err := doc.WriteToString()
	if err != nil {
		return "<" + el.Tag + ">"
	}
	return s
}

package replay

import (
	"fmt"
	"strings"

	"github.com/beevik/etree"
)

// A Mask names the parts of a reply that are expected to differ between a recording
// and a replay (client ids, call ids, timestamps, CIB version counters, ...): the
// comparison leaves them out on both sides. MASK.md documents the default mask.
//
// Attribute masks are written ATTR (on any element), ELEM@ATTR (on elements named ELEM)
// or ELEM[@KEY=VALUE]@ATTR (on those whose attribute KEY is VALUE). Element masks are
// written ELEM or ELEM[@KEY=VALUE] and leave out the whole element.
type Mask struct {
	attrs []maskRule
	elems []maskRule
	any   map[string]bool // plain ATTR rules, for speed
	// placeholders: recorded redaction placeholders match any live value
	// (set for a redacted capture)
	placeholders bool
}

type maskRule struct {
	spec       string
	elem       string // "" for any element
	key, value string // a condition on the element, if key != ""
	attr       string // the masked attribute (attribute rules)
}

// defaultAttrMask is docs/protocol.md 8.4, one line per category as MASK.md shows it.
var defaultAttrMask = [][]string{
	// identities the daemon hands out, or that carry the client's pid
	{"cib_clientid", "cib_async_id", "st_clientid", "st_async_id", "lrmd_clientid", "lrmd_async_id",
		"crm_sys_to", "crm_sys_from", "client_uuid", "st_clientname"},
	// correlation: references, call ids, transition keys
	{"reference", "cib_callid", "st_callid", "lrmd_callid", "call-id", "lrmd_rsc_userdata_str",
		"transition-key", "transition-magic", "transition_id", "crm-tgraph-in"},
	// CIB versioning and DC state
	{"epoch", "num_updates", "admin_epoch", "cib-last-written", "update-origin", "update-client",
		"update-user", "have-quorum", "dc-uuid", "digest", "crm-debug-origin"},
	// times
	{"crm-timestamp", "lrmd_run_time", "lrmd_rcchange_time", "lrmd_exec_time", "lrmd_queue_time",
		"last-rc-change", "last-run", "exec-time", "queue-time", "st_date", "st_date_nsec"},
	// state that depends on timing
	{"crmd_state"},
	// build and version
	{"origin", "lrmd_origin", "ack@function", "ack@line", "nack@function", "nack@line", "version",
		"crm_feature_set", "validate-with", "ipc-protocol-version", "nvpair[@name=dc-version]@value"},
}

// DefaultMask returns a new Mask holding the default rules (MASK.md), to which more may
// be added.
func DefaultMask() *Mask {
	m := NewMask()
	for _, group := range defaultAttrMask {
		for _, spec := range group {
			if err := m.Attr(spec); err != nil {
				panic(err)
			}
		}
	}
	return m
}

// NewMask returns an empty Mask: replies must then be equal attribute for attribute.
func NewMask() *Mask { return &Mask{any: make(map[string]bool)} }

// Attr adds an attribute mask written ATTR, ELEM@ATTR or ELEM[@KEY=VALUE]@ATTR.
func (m *Mask) Attr(spec string) error {
	r := maskRule{spec: spec}
	target := spec
	if at := strings.LastIndexByte(spec, '@'); at >= 0 && !strings.Contains(spec[at:], "=") {
		target = spec[:at]
		r.attr = spec[at+1:]
		if target == "" {
			return fmt.Errorf("mask %q: no element before @", spec)
		}
		if err := r.parseElem(target); err != nil {
			return err
		}
	} else {
		r.attr = spec
	}
	if !validName(r.attr) {
		return fmt.Errorf("mask %q: %q is not an attribute name", spec, r.attr)
	}
	if r.elem == "" && r.key == "" {
		m.any[r.attr] = true
	}
	m.attrs = append(m.attrs, r)
	return nil
}

// Element adds an element mask written ELEM or ELEM[@KEY=VALUE].
func (m *Mask) Element(spec string) error {
	r := maskRule{spec: spec}
	if err := r.parseElem(spec); err != nil {
		return err
	}
	m.elems = append(m.elems, r)
	return nil
}

// parseElem reads ELEM or ELEM[@KEY=VALUE] (the value may be quoted).
func (r *maskRule) parseElem(s string) error {
	name, cond, ok := strings.Cut(s, "[")
	r.elem = name
	if !validName(name) {
		return fmt.Errorf("mask %q: %q is not an element name", r.spec, name)
	}
	if !ok {
		return nil
	}
	cond, ok = strings.CutSuffix(cond, "]")
	if !ok || !strings.HasPrefix(cond, "@") {
		return fmt.Errorf("mask %q: want ELEM[@KEY=VALUE]", r.spec)
	}
	key, value, ok := strings.Cut(cond[1:], "=")
	if !ok || !validName(key) {
		return fmt.Errorf("mask %q: want ELEM[@KEY=VALUE]", r.spec)
	}
	if len(value) >= 2 && (value[0] == '"' || value[0] == '\'') && value[len(value)-1] == value[0] {
		value = value[1 : len(value)-1]
	}
	r.key, r.value = key, value
	return nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c == '@' || c == '[' || c == ']' || c == '=' || c == '/' || c == ' ' || c == '"' || c == '\'' {
			return false
		}
	}
	return true
}

// Specs returns the mask's rules as written: attribute masks, then element masks.
func (m *Mask) Specs() (attrs, elems []string) {
	for _, r := range m.attrs {
		attrs = append(attrs, r.spec)
	}
	for _, r := range m.elems {
		elems = append(elems, r.spec)
	}
	return attrs, elems
}

func (r *maskRule) matchElem(el *etree.Element) bool {
	if r.elem != "" && r.elem != el.Tag {
		return false
	}
	return r.key == "" || el.SelectAttrValue(r.key, "\x00") == r.value
}

// apply removes the masked attributes and elements from el and its descendants.
func (m *Mask) apply(el *etree.Element) {
	// Conditions look at the element as recorded, so decide first, then remove.
	var drop []string
	for _, a := range el.Attr {
		name := a.FullKey()
		if m.any[name] {
			drop = append(drop, name)
			continue
		}
		for i := range m.attrs {
			r := &m.attrs[i]
			if r.attr == name && (r.elem != "" || r.key != "") && r.matchElem(el) {
				drop = append(drop, name)
				break
			}
		}
	}
	for _, name := range drop {
		el.RemoveAttr(name)
	}
	for _, c := range el.ChildElements() {
		masked := false
		for i := range m.elems {
			if m.elems[i].matchElem(c) {
				masked = true
				break
			}
		}
		if masked {
			el.RemoveChild(c)
			continue
		}
		m.apply(c)
	}
}

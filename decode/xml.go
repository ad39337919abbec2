package decode

import (
	"bytes"
	"fmt"

	"github.com/beevik/etree"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Slots of a fieldCache: the root tag's few-valued fields.
const (
	slotRoot = iota
	slotT
	slotSubt
	slotSysFrom
	slotSysTo
	slotClientID
	slotAsync
	slotRC
	slotOp
	slotCallID    // not interned: a reply carries its request's
	slotReference // not interned, as slotCallID
	numSlots
)

// fieldCache hands out the strings of the root tag's few-valued fields:
// one of the last two a field took when the value is the same (a field most
// often has the value it had in the message before, or in the one before
// that when requests and replies alternate, and comparing the bytes costs
// less than the Interner's table), else the Interner's.
type fieldCache struct {
	names   pcmk.Interner
	clients pcmk.Interner       // client ids: one per client session, on each of its messages
	last    [numSlots][2]string // the last two values: requests and replies alternate
}

// value returns v unescaped, as pcmk.Interner.InternValue does; a nil c
// builds every string anew.
func (c *fieldCache) value(slot int, v []byte) string {
	if c == nil {
		return pcmk.Unescape(v)
	}
	last := &c.last[slot]
	if string(v) == last[0] {
		return last[0] // it has no reference: it is its own text
	}
	if string(v) == last[1] {
		return last[1]
	}
	var s string
	switch slot {
	case slotCallID, slotReference:
		s = pcmk.Unescape(v) // values that do not come back after their reply
	case slotClientID, slotAsync:
		s = c.clients.InternValue(v)
	default:
		s = c.names.InternValue(v)
	}
	if bytes.IndexByte(v, '&') < 0 {
		last[0], last[1] = s, last[0]
	}
	return s
}

// setXMLFields fills the message's XML-derived fields from the root
// element (docs/protocol.md 8.1), taking the few-valued ones from c.
func (m *Message) setXMLFields(root []byte, attrs []xmlAttr, c *fieldCache) {
	m.Root = c.value(slotRoot, root)
	var op, opPrio, clientID, async, rc, lrmdExecRC, status, origin, function string
	prio := pcmk.OpRankNone
	for _, a := range attrs {
		switch string(a.name) {
		case "t":
			m.T = c.value(slotT, a.value)
		case "subt":
			m.Subt = c.value(slotSubt, a.value)
		case "crm_sys_from":
			m.SysFrom = c.value(slotSysFrom, a.value)
		case "crm_sys_to":
			m.SysTo = c.value(slotSysTo, a.value)
		case "crm_host_to":
			m.HostTo = pcmk.Unescape(a.value)
		case "src":
			m.Src = pcmk.Unescape(a.value)
		case "reference":
			m.Reference = c.value(slotReference, a.value)
		case "cib_callid", "st_callid", "lrmd_callid":
			m.CallID = c.value(slotCallID, a.value)
		case "cib_clientid", "st_clientid", "lrmd_clientid":
			clientID = c.value(slotClientID, a.value)
		case "cib_async_id", "st_async_id", "lrmd_async_id":
			async = c.value(slotAsync, a.value)
		case "cib_rc", "st_rc", "lrmd_rc", "rc":
			rc = c.value(slotRC, a.value)
		case "lrmd_exec_rc":
			lrmdExecRC = pcmk.Unescape(a.value)
		case "status":
			status = pcmk.Unescape(a.value)
		case "origin", "lrmd_origin":
			origin = pcmk.Unescape(a.value)
		case "function":
			function = pcmk.Unescape(a.value)
		default:
			if p := pcmk.OpRank(a.name); p < prio {
				prio, opPrio = p, c.value(slotOp, a.value)
			}
		}
	}
	op = opPrio
	if (m.T == "cib_notify" || m.T == "st_notify") && m.Subt != "" {
		op = m.Subt
	}
	if op == "" {
		op = m.Root
	}
	m.Op = op
	m.ClientID = firstNonEmpty(clientID, async)
	isAck := m.Root == "ack" || m.Root == "nack"
	if isAck {
		m.RC = firstNonEmpty(rc, status)
		m.Origin = firstNonEmpty(origin, function)
	} else {
		m.RC = firstNonEmpty(rc, lrmdExecRC)
		m.Origin = origin
	}
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// strictXML parses text with etree, as Options.StrictXML asks.
func strictXML(text []byte) error {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(text); err != nil {
		return err
	}
	roots := 0
	for _, c := range doc.Child {
		if _, ok := c.(*etree.Element); ok {
			roots++
		}
	}
	if roots != 1 {
		return fmt.Errorf("%d root elements", roots)
	}
	return nil
}

// Indent returns text pretty-printed with two spaces per level, or text
// itself if etree cannot parse it.
func Indent(text []byte) []byte {
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(text); err != nil {
		return text
	}
	doc.Indent(2)
	out, err := doc.WriteToBytes()
	if err != nil {
		return text
	}
	return bytes.TrimRight(out, "\n")
}

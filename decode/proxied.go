package decode

import (
	"bytes"
	"hash/maphash"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Proxied traffic (docs/remote.md). On a cluster node with Pacemaker Remote
// nodes, the controller relays each request a remote tool sends to
// pacemaker-remoted to the real daemon, on one libqb connection per remote
// client session, with the proxied flag and three attributes appended to the
// root element: acl_role="pacemaker-remote", acl_target and lrmd_ipc_user
// (the remote node's name). The daemon marks such a client as proxied and
// turns every reply it would send on the response channel into an event
// flagged proxied_relay_response. In dialect A (2.1.x, 3.0.0) that event
// carries a fresh event id; from 3.0.1 (dialect B) it carries the request's
// id. A daemon answers a connection's requests in order, so in dialect A the
// event answers the oldest request of the connection still waiting for a
// response.

// proxyAttrs are the attributes the controller adds to a request it relays.
var proxyAttrs = [...][]byte{[]byte("acl_role"), []byte("acl_target"), []byte("lrmd_ipc_user")}

// relayed pairs an event flagged proxied_relay_response with the request it
// answers, and reports whether it did.
func (pr *pairer) relayed(key connKey, m *Message) bool {
	m.Role = RoleReply
	if m.Root == "ack" || m.Root == "nack" {
		m.Role = RoleAck
	}
	cp := pr.conns[key]
	if cp == nil {
		return false
	}
	var p *pending
	by := "proxied_qb_id"
	if m.Dialect == DialectB {
		p = cp.byQBID[m.QBID]
	} else {
		p, by = cp.oldest(func(p *pending) bool { return p.byQB }), "proxied_order"
	}
	if p == nil {
		return false
	}
	if cp.byQBID[p.qbID] == p {
		delete(cp.byQBID, p.qbID)
	}
	p.byQB = false
	pr.answer(m, p, by)
	if m.Role != RoleAck || !p.wantEvent {
		pr.finish(p)
	}
	return true
}

// proxyLinks remembers recent requests by the digest of their XML, so that
// the controller's relay of a remote tool's request (to pacemaker-remoted,
// in the same capture) can name it.
type proxyLinks struct {
	off   bool // Options.NoRelays: only ProxiedFor is set
	seed  maphash.Seed
	bySum map[uint64]uint64 // digest -> Seq of the request
	ring  []proxyLink       // what bySum holds, oldest first, for the bound
	next  int
}

// proxyLink is one request remembered: its digest and Seq.
type proxyLink struct{ sum, seq uint64 }

// maxProxyLinks bounds proxyLinks.
const maxProxyLinks = 1024

// link sets a request's ProxiedFor and, for a relayed request whose
// original is in the capture, its Relays.
func (pl *proxyLinks) link(m *Message) {
	if m.RX || len(m.XML) == 0 || m.Dialect == DialectAuto {
		return
	}
	if pl.off || m.Truncated {
		// A cut request has no digest to match; its start tag still names
		// the node (top copies only the start of large messages).
		if m.Flags&pcmk.FlagProxied != 0 {
			m.ProxiedFor = proxiedFor(m.XML)
		}
		return
	}
	if pl.bySum == nil {
		pl.seed = maphash.MakeSeed()
		pl.bySum = make(map[uint64]uint64)
		pl.ring = make([]proxyLink, 0, maxProxyLinks)
	}
	sum, node := pl.digest(m)
	if m.Flags&pcmk.FlagProxied == 0 {
		pl.remember(sum, m.Seq)
		return
	}
	m.ProxiedFor = node
	if seq, ok := pl.bySum[sum]; ok {
		m.Relays = seq
	}
}

// digest hashes a request's service and XML without the attributes the
// controller adds when it relays one, and returns the lrmd_ipc_user found.
func (pl *proxyLinks) digest(m *Message) (sum uint64, node string) {
	var h maphash.Hash
	h.SetSeed(pl.seed)
	h.WriteString(m.Service)
	h.WriteByte(0)
	name, tag, rest := rootTag(m.XML)
	h.Write(name)
	for len(tag) > 0 {
		var aname, value, raw []byte
		aname, value, raw, tag = nextAttr(tag)
		if raw == nil {
			break
		}
		if isProxyAttr(aname) {
			if string(aname) == "lrmd_ipc_user" {
				node = pcmk.Unescape(value)
			}
			continue
		}
		h.WriteByte(' ')
		h.Write(raw)
	}
	h.Write(rest)
	return h.Sum64(), node
}

// proxiedFor returns the lrmd_ipc_user of a relayed request's root tag,
// as digest finds it.
func proxiedFor(xml []byte) (node string) {
	_, tag, _ := rootTag(xml)
	for len(tag) > 0 {
		var aname, value, raw []byte
		aname, value, raw, tag = nextAttr(tag)
		if raw == nil {
			break
		}
		if string(aname) == "lrmd_ipc_user" {
			node = pcmk.Unescape(value)
		}
	}
	return node
}

func (pl *proxyLinks) remember(sum, seq uint64) {
	if len(pl.ring) < maxProxyLinks {
		pl.ring = append(pl.ring, proxyLink{sum, seq})
	} else {
		// The oldest goes, unless a later request with the same digest took its place.
		if old := pl.ring[pl.next]; pl.bySum[old.sum] == old.seq {
			delete(pl.bySum, old.sum)
		}
		pl.ring[pl.next] = proxyLink{sum, seq}
		pl.next = (pl.next + 1) % maxProxyLinks
	}
	pl.bySum[sum] = seq
}

func isProxyAttr(name []byte) bool {
	for _, a := range proxyAttrs {
		if bytes.Equal(name, a) {
			return true
		}
	}
	return false
}

// rootTag splits xml into the root element's name, the inside of its start
// tag after the name (the attributes) and everything from the tag's end on.
// Anything it cannot read goes whole into rest.
func rootTag(xml []byte) (name, attrs, rest []byte) {
	i := 0
	for {
		j := bytes.IndexByte(xml[i:], '<')
		if j < 0 || i+j+1 >= len(xml) {
			return nil, nil, xml
		}
		i += j
		if c := xml[i+1]; c != '?' && c != '!' {
			break
		}
		k := bytes.IndexByte(xml[i:], '>')
		if k < 0 {
			return nil, nil, xml
		}
		i += k + 1
	}
	start := i
	for i < len(xml) && !isSpace(xml[i]) && xml[i] != '>' && xml[i] != '/' {
		i++
	}
	nameEnd := i
	var quote byte
	for ; i < len(xml); i++ {
		c := xml[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			end := i
			if end > nameEnd && xml[end-1] == '/' {
				end--
			}
			return xml[start:nameEnd], xml[nameEnd:end], xml[end:]
		}
	}
	return nil, nil, xml
}

// nextAttr reads one name="value" from tag; raw is the whole attribute
// without surrounding space, nil when there is none left.
func nextAttr(tag []byte) (name, value, raw, rest []byte) {
	i := 0
	for i < len(tag) && isSpace(tag[i]) {
		i++
	}
	tag = tag[i:]
	eq := bytes.IndexByte(tag, '=')
	if eq < 0 {
		return nil, nil, nil, nil
	}
	name = bytes.TrimRight(tag[:eq], " \t\r\n")
	j := eq + 1
	for j < len(tag) && isSpace(tag[j]) {
		j++
	}
	if j >= len(tag) || (tag[j] != '"' && tag[j] != '\'') {
		return nil, nil, nil, nil
	}
	end := bytes.IndexByte(tag[j+1:], tag[j])
	if end < 0 {
		return nil, nil, nil, nil
	}
	end += j + 1
	return name, tag[j+1 : end], tag[:end+1], tag[end+1:]
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

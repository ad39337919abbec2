package capfile

import (
	"fmt"
	"strings"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

// InterfaceInfo describes one node of a merged capture (pcmk-trace merge):
// each node's packets are on an interface of their own, named after the
// node, so Wireshark shows where each packet was recorded. FORMAT.md
// describes the interface's options.
type InterfaceInfo struct {
	Node   string // cluster node name (or host name): the interface's if_name
	Host   string // host name the node's capture was recorded on
	NodeID uint32 // cluster node id, 0 when unknown
	BootID string // the node's kernel boot id

	// Offset was added to every time of the node's capture to bring its
	// clock in line with the others; OffsetError is its uncertainty (0 when
	// the offset was given, not estimated).
	Offset      time.Duration
	OffsetError time.Duration
}

// Keys of an interface comment's lines; host, nodeid and boot-id are the
// section comment's.
const (
	keyOffset      = "clock-offset"
	keyOffsetError = "clock-offset-error"
)

func (f *InterfaceInfo) comment() string {
	s := SectionInfo{Host: f.Host, NodeID: f.NodeID, BootID: f.BootID}
	c := s.comment()
	if f.Offset != 0 || f.OffsetError != 0 {
		c += keyOffset + ": " + f.Offset.String() + "\n"
	}
	if f.OffsetError != 0 {
		c += keyOffsetError + ": " + f.OffsetError.String() + "\n"
	}
	return c
}

// parseInterfaceComment fills f from an interface comment.
func (f *InterfaceInfo) parseComment(c string) {
	var s SectionInfo
	s.parseComment(c)
	f.Host, f.NodeID, f.BootID = s.Host, s.NodeID, s.BootID
	for _, line := range strings.Split(s.Comment, "\n") {
		key, value, _ := strings.Cut(line, ": ")
		d, err := time.ParseDuration(value)
		if err != nil {
			continue
		}
		switch key {
		case keyOffset:
			f.Offset = d
		case keyOffsetError:
			f.OffsetError = d
		}
	}
}

// ngInterface is the interface description block of a node.
func (f *InterfaceInfo) ngInterface(opts *WriterOptions) pcapgo.NgInterface {
	return pcapgo.NgInterface{
		Name:                f.Node,
		Description:         interfaceDesc,
		Comment:             f.comment(),
		LinkType:            opts.LinkType,
		SnapLength:          MaxPacketLen,
		TimestampResolution: 9,
	}
}

// addInterfaces writes the description blocks of the nodes after the first
// and returns each node's interface number.
func addInterfaces(ng *pcapgo.NgWriter, opts *WriterOptions) (map[string]uint32, error) {
	index := make(map[string]uint32, len(opts.Interfaces))
	for i := range opts.Interfaces {
		f := &opts.Interfaces[i]
		if f.Node == "" {
			return nil, fmt.Errorf("capfile: interface %d has no node name", i)
		}
		if _, dup := index[f.Node]; dup {
			return nil, fmt.Errorf("capfile: two interfaces for node %q", f.Node)
		}
		if i > 0 {
			id, err := ng.AddInterface(f.ngInterface(opts))
			if err != nil {
				return nil, fmt.Errorf("write capture header: %w", err)
			}
			if id != i {
				return nil, fmt.Errorf("capfile: interface of node %q got number %d, want %d", f.Node, id, i)
			}
		}
		index[f.Node] = uint32(i)
	}
	return index, nil
}

// Interfaces returns the nodes of a merged capture, one per interface, in
// interface order; nil for a capture of one node.
func (r *Reader) Interfaces() []InterfaceInfo {
	var out []InterfaceInfo
	for _, f := range r.ifaces {
		if f.info.Node != "" {
			out = append(out, f.info)
		}
	}
	return out
}

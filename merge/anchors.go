package merge

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Anchor is a CPG multicast as one node saw it: its send there, or its delivery.
type Anchor struct {
	Sum  uint64    // the multicast's identity, the same on its send and every delivery
	Time time.Time // on the node's own clock
	Send bool
}

// MaxAnchors bounds the anchors kept of one capture; the first ones suffice to estimate
// an offset, and the bound keeps a long capture's scan in bounded memory.
const MaxAnchors = 1 << 20

// ScanAnchors reads a capture to its end and returns its CPG sends and deliveries, at most
// MaxAnchors. Damaged packets are skipped.
func ScanAnchors(r *capfile.Reader) ([]Anchor, error) {
	var out []Anchor
	var rec capfile.Record
	for len(out) < MaxAnchors {
		err := r.ReadInto(&rec)
		if err == io.EOF || errors.Is(err, capfile.ErrTruncated) {
			return out, nil // a recorder killed: its capture ends at its last whole block
		}
		var fe *capfile.FormatError
		if errors.As(err, &fe) {
			continue
		}
		if err != nil {
			return out, fmt.Errorf("scan for cpg messages: %w", err)
		}
		if a, ok := anchorOf(&rec); ok {
			out = append(out, a)
		}
	}
	return out, nil
}

// anchorOf returns the anchor a record is, if it is a CPG multicast.
func anchorOf(rec *capfile.Record) (Anchor, bool) {
	if rec.Kind != capfile.KindMessage || rec.Service != "cpg" || rec.Time.IsZero() {
		return Anchor{}, false
	}
	var request bool
	switch rec.Channel {
	case capfile.ChannelRequest:
		request = true
	case capfile.ChannelEvent:
	default:
		return Anchor{}, false
	}
	if rec.Flags&capfile.FlagRX != 0 {
		return Anchor{}, false // the receive side's copy of a record: its sender's is the one
	}
	c, ok := pcmk.ParseCPG(rec.Data, request)
	if !ok {
		return Anchor{}, false
	}
	return Anchor{Sum: c.Sum(), Time: rec.Time, Send: request}, true
}

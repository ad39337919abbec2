package decode

import (
	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// partKey names one direction of one connection as one process saw it:
// parts of different messages never interleave within it, while different
// keys interleave freely (docs/protocol.md 6.7).
type partKey struct {
	conn string
	ch   capfile.Channel
	rx   bool
}

// A partial is a multipart message being reassembled; its parts are told
// by their records' identities (without the bytes).
type partial = pcmk.Partial[partKey, capfile.Record]

type reassembler = pcmk.Reassembler[partKey, capfile.Record]

// identity keeps a record's identity without its bytes.
func identity(rec *capfile.Record) capfile.Record {
	id := *rec
	id.Data = nil
	return id
}

// partialError is the FormatError of a broken multipart message, or nil.
func partialError(p *partial) error {
	if p.Err == nil {
		return nil
	}
	return &FormatError{Seq: p.ErrTag.Seq, Packet: p.ErrTag.Packet, Offset: p.ErrOffset, Conn: p.Key.conn, QBID: p.ID, Err: p.Err}
}

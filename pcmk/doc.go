// Package pcmk is the Pacemaker IPC wire format, once: the libqb request and
// response headers and their reserved ids, the two dialects of Pacemaker's
// 40-byte envelope (detection, parsing with the offset of the field at
// fault, and encoding), the envelope flags and their names, reassembly of
// dialect B multipart messages, capped bzip2 decompression and compression
// for dialect A, the table of libqb services and the daemons behind them,
// the attributes that name an operation, a reader for the root start tag of
// a message's XML, and a string interner for the few-valued fields.
//
// docs/protocol.md describes the format (sections 3 and 6) and the XML
// (section 8). This package imports nothing else of this module, so the decoder, the replayer and
// its IPC client all read and write the same bytes the same way.
//
// A reader of raw libqb messages uses it like this:
//
//	h, ok := pcmk.ParseQBHeader(msg, pcmk.ResponseHeaderLen)
//	if !ok || h.ID < 0 {
//		return // short, or a libqb control message: pcmk.ControlOp(h.ID)
//	}
//	env, off, err := pcmk.ParseEnvelope(msg, h.Size, pcmk.DialectAuto)
//	if err != nil {
//		return fmt.Errorf("byte %d: %w", off, err)
//	}
//	payload := msg[pcmk.EnvelopeLen:]
//	// dialect A: pcmk.Decompress when env.Flags has FlagCompressed;
//	// dialect B: a pcmk.Reassembler joins the parts.
//	tag := pcmk.ReadStartTag(text)
//	for tag.Next() {
//		if pcmk.OpRank(tag.Name()) < pcmk.OpRankNone { /* tag.Value() names the operation */ }
//	}
//
// and a writer with an [Encoder]:
//
//	enc := pcmk.Encoder{Dialect: pcmk.DialectB}
//	msgs, err := enc.Encode(id, xml, pcmk.FlagClientResponse)
package pcmk

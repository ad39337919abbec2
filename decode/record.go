package decode

import (
	"fmt"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// record decodes one record from the source. With Options.Recycle, the
// record goes back to capfile at once unless a message's XML is in its
// Data: then it goes back with that message's Release.
func (r *Reader) record(rec *capfile.Record) {
	r.stats.Records++
	if r.opts.Recycle {
		r.cur = rec
		defer r.recycle()
	}
	switch rec.Kind {
	case capfile.KindMessage:
		r.message(rec)
	case capfile.KindLoss:
		m := base(rec)
		m.Kind, m.Lost, m.Cause = KindLoss, rec.Lost, rec.Cause
		r.stats.Lost += uint64(rec.Lost)
		r.emit(m)
	case capfile.KindConnect, capfile.KindDisconnect:
		if rec.Kind == capfile.KindDisconnect {
			conn := rec.Conn
			for _, p := range r.parts.Drop(func(k partKey) bool { return k.conn == conn }, "disconnected") {
				r.partial(p)
			}
			r.pairs.closeConn(rec.Conn)
			delete(r.dialects, rec.Conn)
		}
		if r.opts.Lifecycle {
			m := base(rec)
			m.Kind, m.MaxMsgSize = KindConnect, rec.MaxMsgSize
			if rec.Kind == capfile.KindDisconnect {
				m.Kind = KindDisconnect
			}
			r.emit(m)
		}
	default:
		m := base(rec)
		m.Kind = KindInvalid
		m.Err = &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: -1, Err: fail(ErrRecord, "kind %d", rec.Kind)}
		r.emit(m)
	}
}

// family returns pcmk.ServiceFamily(service), looked up again only when
// the service changes: runs of one service are the rule.
func (r *Reader) family(service string) pcmk.Family {
	if service != r.famService || r.famService == "" {
		r.famService, r.famOf = service, pcmk.ServiceFamily(service)
	}
	return r.famOf
}

// recycle gives the record being decoded back to capfile, unless a message
// took it.
func (r *Reader) recycle() {
	if r.cur != nil {
		capfile.Recycle(r.cur)
		r.cur = nil
	}
}

// base copies a record's identity into a new Message, or one released.
func base(rec *capfile.Record) *Message {
	m, _ := released.Get().(*Message)
	if m == nil {
		m = new(Message)
	}
	*m = Message{
		Seq:       rec.Seq,
		Packet:    rec.Packet,
		Time:      rec.Time,
		PID:       rec.PID,
		Comm:      rec.Comm,
		Service:   rec.Service,
		Channel:   rec.Channel,
		ClientPID: rec.ClientPID,
		ServerPID: rec.ServerPID,
		Conn:      rec.Conn,
		RX:        rec.Flags&capfile.FlagRX != 0,
		Node:      rec.Node,
	}
	return m
}

func (r *Reader) fail(m *Message, rec *capfile.Record, offset int, err error) {
	m.Err = &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: offset, Err: err}
	r.done(m)
}

// done pairs and queues a finished message.
func (r *Reader) done(m *Message) {
	r.pairs.pair(m)
	r.emit(m)
}

// message decodes one libqb message record.
func (r *Reader) message(rec *capfile.Record) {
	m := base(rec)
	m.Kind, m.Parts = KindMessage, 1
	data := rec.Data
	wire := int(rec.OrigLen)
	if wire == 0 {
		wire = len(data)
	}
	m.Size = wire
	truncated := rec.Flags&capfile.FlagTruncated != 0 || len(data) < wire
	m.Truncated = truncated
	if len(data) > wire {
		r.fail(m, rec, wire, fail(ErrSize, "record holds %d bytes, original length %d", len(data), wire))
		return
	}

	// Every libqb header starts with id@0 and size@8 (16 bytes); responses
	// and events, and every Pacemaker message, add error@16 (24 bytes).
	fam := r.family(rec.Service)
	m.fam = familyPlus1(fam + 1)
	hdrLen := pcmk.ResponseHeaderLen
	if rec.Channel == capfile.ChannelRequest && (fam == pcmk.FamilyCorosync || len(data) < pcmk.ResponseHeaderLen) {
		hdrLen = pcmk.RequestHeaderLen
	}
	h, ok := pcmk.ParseQBHeader(data, hdrLen)
	if !ok {
		if truncated {
			r.done(m)
			return
		}
		r.fail(m, rec, len(data), fail(ErrShortHeader, "%d bytes, libqb header needs %d", len(data), hdrLen))
		return
	}
	m.QBID, m.QBError = h.ID, h.Error
	if int(h.Size) != wire {
		r.fail(m, rec, 8, fail(ErrSize, "libqb size %d, message is %d bytes", h.Size, wire))
		return
	}
	if h.ID < 0 {
		m.Op = pcmk.ControlOp(h.ID)
		r.done(m)
		return
	}
	if fam == pcmk.FamilyCorosync || (fam == pcmk.FamilyOther && (len(data) < pcmk.EnvelopeLen || pcmk.DetectDialect(data, h.Size) == DialectAuto)) {
		clusterMsg(m, rec, data)
		r.done(m) // not Pacemaker: the libqb layer is all there is
		return
	}
	if len(data) < pcmk.EnvelopeLen {
		if truncated {
			r.done(m)
			return
		}
		r.fail(m, rec, len(data), fail(ErrShortHeader, "%d bytes, envelope needs %d", len(data), pcmk.EnvelopeLen))
		return
	}

	d := r.opts.Dialect
	if d == DialectAuto {
		d = r.dialects[rec.Conn]
	}
	env, off, err := pcmk.ParseEnvelope(data, h.Size, d)
	m.Dialect, m.Flags = env.Dialect, env.Flags
	if err != nil {
		r.fail(m, rec, off, err)
		return
	}
	if r.opts.Dialect == DialectAuto && d == DialectAuto { // d is r.dialects[rec.Conn]: not known yet
		if len(r.dialects) >= maxDialects {
			clear(r.dialects)
		}
		r.dialects[rec.Conn] = env.Dialect
	}

	payload := data[pcmk.EnvelopeLen:]
	if env.Dialect == DialectB {
		key := partKey{rec.Conn, rec.Channel, m.RX}
		if env.Flags&(pcmk.FlagMultipart|pcmk.FlagMultipartEnd) != 0 {
			for _, p := range r.parts.Add(key, identity(rec), h.ID, env, payload, truncated, wire) {
				r.partial(p)
			}
			return
		}
		if p := r.parts.Single(key, identity(rec), h.ID); p != nil {
			r.partial(p)
		}
	}
	if err := r.body(m, rec, env, payload, truncated); err != nil {
		m.Err = err
	}
	r.done(m)
}

// body decodes a single-part payload into m.XML and the fields.
func (r *Reader) body(m *Message, rec *capfile.Record, env pcmk.Envelope, payload []byte, truncated bool) error {
	declared := int(env.PayloadLen())
	if env.Dialect == DialectA && env.Flags&pcmk.FlagCompressed != 0 {
		m.Compressed = true
		m.XMLBytes = max(int(env.SizeUncompressed)-1, 0)
		if truncated {
			return nil // a cut bzip2 stream cannot be inflated
		}
		text, err := r.inflate.Decompress(payload, env.SizeUncompressed, r.opts.MaxDecompressed)
		if err != nil {
			return &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: pcmk.EnvelopeLen, Err: err}
		}
		return r.text(m, rec, text, false, -1)
	}
	m.XMLBytes = max(declared-1, 0)
	if truncated {
		if declared > 0 && len(payload) == declared {
			payload = payload[:declared-1]
		}
		if declared > 0 {
			return r.text(m, rec, payload, true, pcmk.EnvelopeLen)
		}
	}
	text, off, err := env.PlainText(payload)
	if err != nil {
		return &FormatError{Seq: rec.Seq, Packet: rec.Packet, Offset: off, Err: err}
	}
	return r.text(m, rec, text, false, pcmk.EnvelopeLen)
}

// text sets m.XML and the fields derived from it. base is the offset of
// the text in the record's libqb message, or -1 when the text is not
// there verbatim (decompressed or reassembled).
func (r *Reader) text(m *Message, rec *capfile.Record, text []byte, truncated bool, base int) error {
	m.XML = text
	if base >= 0 && r.cur == rec {
		m.rec, r.cur = rec, nil // the text is in rec.Data
	}
	if len(text) == 0 && truncated {
		return nil
	}
	var xerr *xmlError
	if r.opts.RootOnly || r.opts.CheckLater {
		xerr = r.scan.scanRoot(text)
	} else {
		xerr = r.scan.scan(text)
	}
	if r.scan.root != nil {
		// what could be read, even from a truncated or broken start tag
		m.setXMLFields(r.scan.root, r.scan.attrs, &r.fields)
	}
	if truncated {
		return nil
	}
	if r.opts.CheckLater && !r.opts.RootOnly && xerr == nil {
		// Check reads the rest. (A broken start tag is reported now: the
		// full scan stops there too, with the same error.)
		m.unchecked, m.textBase = true, base
		return nil
	}
	return r.xmlError(m, text, xerr, base)
}

// xmlError returns the error of m's text given the scanner's result
// xerr, and StrictXML's, or nil. base is as for text.
func (r *Reader) xmlError(m *Message, text []byte, xerr *xmlError, base int) error {
	if xerr != nil {
		off := -1
		if base >= 0 {
			off = base + xerr.pos
		}
		return &FormatError{Seq: m.Seq, Packet: m.Packet, Offset: off, Err: fmt.Errorf("%w: %w of the text", ErrXML, xerr)}
	}
	if r.opts.StrictXML && !r.opts.RootOnly {
		if err := strictXML(text); err != nil {
			return &FormatError{Seq: m.Seq, Packet: m.Packet, Offset: -1, Err: fmt.Errorf("%w: %w", ErrXML, err)}
		}
	}
	return nil
}

// Check completes the XML check of a message that Next read with
// Options.CheckLater: it sets m.Err as Next would have without the option
// (and counts it in Stats). Check may run in another goroutine than Next,
// at the same time, but not in two goroutines at once; it does nothing to
// a message already checked.
func (r *Reader) Check(m *Message) {
	if !m.unchecked {
		return
	}
	m.unchecked = false
	if err := r.xmlError(m, m.XML, r.later.scan(m.XML), m.textBase); err != nil {
		m.Err = err
		r.laterErrors.Add(1)
	}
}

// partial turns a finished or abandoned multipart message into a Message.
func (r *Reader) partial(p *partial) {
	m := base(&p.Last)
	m.Kind = KindMessage
	m.QBID = p.ID
	m.Parts, m.Size = p.Parts, p.Size
	m.Dialect, m.Flags = DialectB, p.Flags
	m.Truncated, m.XMLBytes = p.Truncated, p.TextBytes
	m.fam = familyPlus1(r.family(m.Service) + 1)
	if p.Err != nil {
		m.Err = partialError(p)
	} else if err := r.text(m, &p.Last, p.Text, p.Truncated, -1); err != nil {
		m.Err = err
	}
	r.done(m)
}

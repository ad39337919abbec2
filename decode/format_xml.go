package decode

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"strings"
)

// XMLFormatter writes the messages as one XML document for xmllint and
// XPath: a <pcmk-trace> root holding one <message>, <loss>, <connect>,
// <disconnect> or <invalid> element per message, with the JSON keys as
// attributes (flags space-separated). A message's own XML is the only child
// of its <message> element when it parses; otherwise (broken, truncated)
// the text goes escaped into a <text> child. Close writes the end tag.
type XMLFormatter struct {
	w       *bufio.Writer
	buf     []byte
	started bool
}

// NewXMLFormatter returns an XMLFormatter writing to w.
func NewXMLFormatter(w io.Writer) *XMLFormatter {
	return &XMLFormatter{w: bufio.NewWriterSize(w, 64<<10)}
}

const xmlHeader = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<pcmk-trace>\n"

// Format writes m's element.
func (f *XMLFormatter) Format(m *Message) error {
	b := f.buf[:0]
	if !f.started {
		b = append(b, xmlHeader...)
		f.started = true
	}
	b = appendMessageXML(b, m)
	f.buf = b
	_, err := f.w.Write(b)
	return err
}

// Flush writes buffered output; the document stays open.
func (f *XMLFormatter) Flush() error { return f.w.Flush() }

// Close ends the document and flushes; it does not close the underlying
// writer.
func (f *XMLFormatter) Close() error {
	if !f.started {
		f.started = true
		if _, err := f.w.WriteString(xmlHeader); err != nil {
			return err
		}
	}
	if _, err := f.w.WriteString("</pcmk-trace>\n"); err != nil {
		return err
	}
	return f.w.Flush()
}

func appendMessageXML(b []byte, m *Message) []byte {
	tag := m.Kind.String()
	b = append(append(b, '<'), tag...)
	if m.Seq != 0 || m.Kind != KindInvalid {
		b = appendAttr(b, "seq", strconv.FormatUint(m.Seq, 10))
	}
	if m.Packet != 0 {
		b = appendAttr(b, "packet", strconv.Itoa(m.Packet))
	}
	if !m.Time.IsZero() {
		b = appendAttr(b, "time", string(appendTime(nil, m.Time)))
	}
	switch m.Kind {
	case KindLoss:
		b = appendAttr(b, "lost", strconv.FormatUint(uint64(m.Lost), 10))
		b = appendAttr(b, "cause", m.Cause.String())
		return append(b, "/>\n"...)
	case KindInvalid:
		if m.Err != nil {
			b = appendAttr(b, "error", m.Err.Error())
		}
		return append(b, "/>\n"...)
	}
	b = appendAttr(b, "pid", strconv.FormatUint(uint64(m.PID), 10))
	b = appendAttr(b, "comm", m.Comm)
	b = appendAttr(b, "service", m.Service)
	b = appendAttr(b, "client_pid", strconv.FormatUint(uint64(m.ClientPID), 10))
	b = appendAttr(b, "server_pid", strconv.FormatUint(uint64(m.ServerPID), 10))
	b = appendAttr(b, "conn", m.Conn)
	if m.Kind != KindMessage {
		if m.Kind == KindConnect {
			b = appendAttr(b, "max_msg_size", strconv.FormatUint(uint64(m.MaxMsgSize), 10))
		}
		return append(b, "/>\n"...)
	}
	b = appendAttr(b, "channel", ChannelName(m.Channel))
	b = appendAttr(b, "role", m.Role.String())
	if m.RX {
		b = appendAttr(b, "rx", "true")
	}
	b = appendAttr(b, "qb_id", strconv.FormatInt(int64(m.QBID), 10))
	if m.QBError != 0 {
		b = appendAttr(b, "qb_error", strconv.FormatInt(int64(m.QBError), 10))
	}
	b = appendAttr(b, "size", strconv.Itoa(m.Size))
	b = appendAttr(b, "dialect", m.Dialect.String())
	b = appendAttr(b, "flags", strings.Join(m.Flags.Names(m.Dialect), " "))
	b = appendAttr(b, "compressed", strconv.FormatBool(m.Compressed))
	b = appendAttr(b, "parts", strconv.Itoa(m.Parts))
	b = appendAttr(b, "xml_bytes", strconv.Itoa(m.XMLBytes))
	b = appendAttr(b, "op", m.Op)
	for _, a := range [...]struct{ k, v string }{
		{"root", m.Root}, {"t", m.T}, {"subt", m.Subt}, {"sys_from", m.SysFrom}, {"sys_to", m.SysTo},
		{"host_to", m.HostTo}, {"src", m.Src}, {"reference", m.Reference}, {"call_id", m.CallID},
		{"client_id", m.ClientID}, {"rc", m.RC}, {"origin", m.Origin},
	} {
		if a.v != "" {
			b = appendAttr(b, a.k, a.v)
		}
	}
	b = appendAttr(b, "expects_reply", strconv.FormatBool(m.ExpectsReply))
	if p := m.ReplyTo; p != nil {
		b = appendAttr(b, "reply_to", strconv.FormatUint(p.Seq, 10))
		b = appendAttr(b, "latency_ns", strconv.FormatInt(int64(p.Latency), 10))
		b = appendAttr(b, "paired_by", p.By)
	}
	b = appendAttr(b, "truncated", strconv.FormatBool(m.Truncated))
	if m.Err != nil {
		b = appendAttr(b, "error", m.Err.Error())
	}
	if len(m.XML) == 0 {
		return append(b, "/>\n"...)
	}
	b = append(b, ">\n"...)
	if embeddable(m) {
		b = append(b, m.XML...)
	} else {
		b = append(b, "<text>"...)
		b = appendXMLEscaped(b, m.XML)
		b = append(b, "</text>"...)
	}
	return append(b, "\n</message>\n"...)
}

// embeddable reports whether m's XML can go into the document as an
// element: it parses, and it has no prolog of its own.
func embeddable(m *Message) bool {
	if m.Err != nil || m.Truncated {
		return false
	}
	text := bytes.TrimLeft(m.XML, " \t\r\n")
	if bytes.HasPrefix(text, []byte("<?")) || bytes.HasPrefix(text, []byte("<!")) {
		return false
	}
	return strictXML(m.XML) == nil
}

func appendAttr(b []byte, k, v string) []byte {
	b = append(append(append(b, ' '), k...), `="`...)
	b = appendXMLEscaped(b, v)
	return append(b, '"')
}

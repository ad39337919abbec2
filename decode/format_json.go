package decode

import (
	"io"
	"strconv"
)

// JSONFormatter writes one JSON object per line. The keys are a stable
// contract, documented in JSON.md.
type JSONFormatter struct {
	// OmitXML leaves out the "xml" key, for smaller output.
	OmitXML bool

	w   io.Writer
	buf []byte // lines not yet written: AppendJSON writes straight into it
	err error
}

// jsonFlushAt is how much output the formatter gathers before a write.
const jsonFlushAt = 64 << 10

// NewJSONFormatter returns a JSONFormatter writing to w.
func NewJSONFormatter(w io.Writer) *JSONFormatter {
	return &JSONFormatter{w: w, buf: make([]byte, 0, 2*jsonFlushAt)}
}

// Format writes m as one line.
func (f *JSONFormatter) Format(m *Message) error {
	if f.err != nil {
		return f.err
	}
	f.buf = AppendJSON(f.buf, m, f.OmitXML)
	f.buf = append(f.buf, '\n')
	if len(f.buf) >= jsonFlushAt {
		return f.Flush()
	}
	return nil
}

// Flush writes buffered output.
func (f *JSONFormatter) Flush() error {
	if f.err == nil && len(f.buf) > 0 {
		_, f.err = f.w.Write(f.buf)
		f.buf = f.buf[:0]
	}
	return f.err
}

// Close flushes; it does not close the underlying writer.
func (f *JSONFormatter) Close() error { return f.Flush() }

// AppendJSON appends m as one JSON object, without a newline, to b.
func AppendJSON(b []byte, m *Message, omitXML bool) []byte {
	switch m.Kind {
	case KindLoss:
		b = appendUint(append(b, `{"seq":`...), m.Seq)
		b = appendPacket(b, m)
		b = appendTime(append(b, `,"time":"`...), m.Time)
		b = appendUint(append(b, `","lost":`...), uint64(m.Lost))
		b = appendJSONString(append(b, `,"cause":`...), m.Cause.String())
		return append(b, '}')
	case KindInvalid:
		b = append(b, `{"kind":"invalid"`...)
		if m.Seq != 0 {
			b = appendUint(append(b, `,"seq":`...), m.Seq)
		}
		b = appendPacket(b, m)
		if !m.Time.IsZero() {
			b = appendTime(append(b, `,"time":"`...), m.Time)
			b = append(b, '"')
		}
		return appendError(b, m)
	case KindConnect, KindDisconnect:
		b = appendUint(append(b, `{"seq":`...), m.Seq)
		b = appendPacket(b, m)
		b = appendTime(append(b, `,"time":"`...), m.Time)
		b = appendJSONString(append(b, `","kind":`...), m.Kind.String())
		b = appendIdentity(b, m)
		if m.Kind == KindConnect {
			b = appendUint(append(b, `,"max_msg_size":`...), uint64(m.MaxMsgSize))
		}
		return append(b, '}')
	}

	b = appendUint(append(b, `{"seq":`...), m.Seq)
	b = appendPacket(b, m)
	b = appendTime(append(b, `,"time":"`...), m.Time)
	b = append(b, '"')
	b = appendIdentity(b, m)
	b = appendJSONString(append(b, `,"channel":`...), ChannelName(m.Channel))
	b = appendJSONString(append(b, `,"role":`...), m.Role.String())
	if m.RX {
		b = append(b, `,"rx":true`...)
	}
	b = strconv.AppendInt(append(b, `,"qb_id":`...), int64(m.QBID), 10)
	if m.QBError != 0 {
		b = strconv.AppendInt(append(b, `,"qb_error":`...), int64(m.QBError), 10)
	}
	b = strconv.AppendInt(append(b, `,"size":`...), int64(m.Size), 10)
	b = appendJSONString(append(b, `,"dialect":`...), m.Dialect.String())
	b = append(b, `,"flags":[`...)
	if m.Flags != 0 {
		var names [8]string
		for i, n := range m.Flags.AppendNames(names[:0], m.Dialect) {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, n)
		}
	}
	b = append(b, ']')
	b = strconv.AppendBool(append(b, `,"compressed":`...), m.Compressed)
	b = strconv.AppendInt(append(b, `,"parts":`...), int64(m.Parts), 10)
	b = strconv.AppendInt(append(b, `,"xml_bytes":`...), int64(m.XMLBytes), 10)
	b = appendJSONString(append(b, `,"op":`...), m.Op)
	b = appendOptional(b, `,"root":`, m.Root)
	b = appendOptional(b, `,"t":`, m.T)
	b = appendOptional(b, `,"subt":`, m.Subt)
	b = appendOptional(b, `,"sys_from":`, m.SysFrom)
	b = appendOptional(b, `,"sys_to":`, m.SysTo)
	b = appendOptional(b, `,"host_to":`, m.HostTo)
	b = appendOptional(b, `,"src":`, m.Src)
	b = appendOptional(b, `,"reference":`, m.Reference)
	b = appendOptional(b, `,"call_id":`, m.CallID)
	b = appendOptional(b, `,"client_id":`, m.ClientID)
	b = appendOptional(b, `,"rc":`, m.RC)
	b = appendOptional(b, `,"origin":`, m.Origin)
	b = appendOptional(b, `,"proxied_for":`, m.ProxiedFor)
	b = appendOptional(b, `,"cluster_msg":`, m.ClusterMsg)
	if m.Relays != 0 {
		b = appendUint(append(b, `,"relays":`...), m.Relays)
	}
	b = strconv.AppendBool(append(b, `,"expects_reply":`...), m.ExpectsReply)
	if p := m.ReplyTo; p != nil {
		b = appendUint(append(b, `,"reply_to":`...), p.Seq)
		b = strconv.AppendInt(append(b, `,"latency_ns":`...), int64(p.Latency), 10)
		b = appendJSONString(append(b, `,"paired_by":`...), p.By)
	} else {
		b = append(b, `,"reply_to":null,"latency_ns":null`...)
	}
	b = strconv.AppendBool(append(b, `,"truncated":`...), m.Truncated)
	if m.Err != nil {
		b = appendJSONString(append(b, `,"error":`...), m.Err.Error())
	}
	if !omitXML {
		b = appendJSONString(append(b, `,"xml":`...), m.XML)
	}
	return append(b, '}')
}

func appendIdentity(b []byte, m *Message) []byte {
	b = appendOptional(b, `,"node":`, m.Node)
	b = appendUint(append(b, `,"pid":`...), uint64(m.PID))
	b = appendJSONString(append(b, `,"comm":`...), m.Comm)
	b = appendJSONString(append(b, `,"service":`...), m.Service)
	b = appendUint(append(b, `,"client_pid":`...), uint64(m.ClientPID))
	b = appendUint(append(b, `,"server_pid":`...), uint64(m.ServerPID))
	return appendJSONString(append(b, `,"conn":`...), m.Conn)
}

func appendPacket(b []byte, m *Message) []byte {
	if m.Packet == 0 {
		return b
	}
	return strconv.AppendInt(append(b, `,"packet":`...), int64(m.Packet), 10)
}

func appendError(b []byte, m *Message) []byte {
	if m.Err != nil {
		b = appendJSONString(append(b, `,"error":`...), m.Err.Error())
	}
	return append(b, '}')
}

func appendOptional(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return appendJSONString(append(b, key...), v)
}

func appendUint(b []byte, v uint64) []byte { return strconv.AppendUint(b, v, 10) }

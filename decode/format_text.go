package decode

import (
	"bufio"
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// TextFormatter writes one line per message for a terminal:
//
//	15:04:05.000123 #3 1234/cibadmin -> cib_rw[567] request cib_query id=2 188B A
//	15:04:05.000456 #4 cib_rw[567] -> 1234/cibadmin event reply cib_query id=225 1584B A server_event|server_free re #3 333µs
//
// that is: time, seq, sender -> receiver, channel and role, operation, libqb
// id, size on the wire, dialect, flags, then as they apply: parts=N,
// bzip2, the reply's rc (or an ack's status), the request answered (its
// operation when it differs) and the latency, "truncated N/M" (bytes of
// XML captured / sent), "rx" for receive-side records, and the error. With Verbose, the XML follows, pretty-printed and indented.
type TextFormatter struct {
	Verbose  bool           // print each message's XML under its line
	Location *time.Location // time zone of the times; nil means time.Local

	w     *bufio.Writer
	buf   []byte
	comms map[nodePID]string // client pid -> command name, learned from requests
	node  string             // the node of the message being written: pids are per node
}

// maxComms bounds the pid -> name memory of a TextFormatter.
const maxComms = 4096

// NewTextFormatter returns a TextFormatter writing to w.
func NewTextFormatter(w io.Writer) *TextFormatter {
	return &TextFormatter{w: bufio.NewWriterSize(w, 64<<10), comms: make(map[nodePID]string)}
}

// Flush writes buffered output.
func (f *TextFormatter) Flush() error { return f.w.Flush() }

// Close flushes; it does not close the underlying writer.
func (f *TextFormatter) Close() error { return f.w.Flush() }

// Format writes m's line, and its XML with Verbose.
func (f *TextFormatter) Format(m *Message) error {
	f.buf = f.appendLine(f.buf[:0], m)
	f.buf = append(f.buf, '\n')
	if f.Verbose && m.Kind == KindMessage && len(m.XML) > 0 {
		text := m.XML
		if m.Err == nil && !m.Truncated {
			text = Indent(text)
		}
		for line := range bytes.Lines(text) {
			f.buf = append(append(f.buf, "    "...), bytes.TrimRight(line, "\n")...)
			f.buf = append(f.buf, '\n')
		}
	}
	_, err := f.w.Write(f.buf)
	return err
}

func (f *TextFormatter) appendLine(b []byte, m *Message) []byte {
	loc := f.Location
	if loc == nil {
		loc = time.Local
	}
	if !m.Time.IsZero() {
		b = m.Time.In(loc).AppendFormat(b, "15:04:05.000000")
		b = append(b, ' ')
	}
	f.node = m.Node
	if m.Node != "" {
		b = append(append(b, m.Node...), ' ')
	}
	if m.Seq != 0 || m.Kind != KindInvalid {
		b = appendUint(append(b, '#'), m.Seq)
		b = append(b, ' ')
	}
	switch m.Kind {
	case KindLoss:
		b = append(b, "LOST "...)
		b = appendUint(b, uint64(m.Lost))
		b = append(b, " messages: "...)
		return append(b, m.Cause.String()...)
	case KindInvalid:
		if m.Packet != 0 {
			b = strconv.AppendInt(append(b, "packet "...), int64(m.Packet), 10)
			b = append(b, ' ')
		}
		b = append(b, "INVALID"...)
		if m.Err != nil {
			b = append(append(b, ": "...), m.Err.Error()...)
		}
		return b
	case KindConnect, KindDisconnect:
		b = append(b, m.Kind.String()...)
		b = append(b, ' ')
		comm := ""
		if m.PID == m.ClientPID {
			comm = m.Comm
			f.learn(m.PID, 0, comm)
		}
		b = f.appendClient(b, m.ClientPID, comm)
		b = append(b, " -> "...)
		b = appendServer(b, m)
		b = append(append(b, ' '), m.Conn...)
		if m.Kind == KindConnect && m.MaxMsgSize != 0 {
			b = appendUint(append(b, " max="...), uint64(m.MaxMsgSize))
		}
		return b
	}

	if m.Channel == capfile.ChannelRequest {
		shown := m.PID
		if !m.RX {
			f.learn(m.PID, m.ClientPID, m.Comm)
			// The pid the daemon knows (from the connection name): the same number
			// on both sides of the conversation when the cluster runs in a pid
			// namespace, such as a container or the test sandbox.
			if m.ClientPID != 0 {
				shown = m.ClientPID
			}
		}
		b = f.appendClient(b, shown, m.Comm)
		b = append(b, " -> "...)
		b = appendServer(b, m)
	} else {
		if !m.RX {
			// A daemon is also the client of others (the controller of the
			// CIB, the fencer of the CIB's notifications): name it there.
			f.learn(m.PID, m.ServerPID, m.Comm)
		}
		b = appendServer(b, m)
		b = append(b, " -> "...)
		b = f.appendClient(b, m.ClientPID, "")
	}
	b = append(b, ' ')
	b = append(b, ChannelName(m.Channel)...)
	switch {
	case m.Role == RoleAck:
		b = append(b, " ack"...)
	case m.Role == RoleNotification:
		b = append(b, " notify"...)
	case m.Channel == capfile.ChannelEvent && m.Role == RoleReply:
		b = append(b, " reply"...)
	}
	if m.Op != "" && !(m.Role == RoleAck && m.Op == m.Root) {
		b = append(append(b, ' '), m.Op...)
	}
	b = strconv.AppendInt(append(b, " id="...), int64(m.QBID), 10)
	b = strconv.AppendInt(append(b, ' '), int64(m.Size), 10)
	b = append(b, 'B')
	if m.Dialect != DialectAuto {
		b = append(append(b, ' '), m.Dialect.String()...)
		if m.Flags != 0 {
			b = append(append(b, ' '), m.Flags.Format(m.Dialect)...)
		}
	}
	if m.Parts > 1 {
		b = strconv.AppendInt(append(b, " parts="...), int64(m.Parts), 10)
	}
	if m.Compressed {
		b = append(b, " bzip2"...)
	}
	if m.ProxiedFor != "" {
		b = append(append(b, " via "...), m.ProxiedFor...)
	}
	if m.Relays != 0 {
		b = appendUint(append(b, " relays #"...), m.Relays)
	}
	if m.RC != "" && m.Role != RoleRequest {
		b = append(append(b, " rc="...), m.RC...)
	}
	if p := m.ReplyTo; p != nil {
		b = appendUint(append(b, " re #"...), p.Seq)
		if p.Op != "" && p.Op != m.Op {
			b = append(append(b, ' '), p.Op...)
		}
		b = append(append(b, ' '), p.Latency.String()...)
	}
	if m.Truncated {
		b = strconv.AppendInt(append(b, " truncated "...), int64(len(m.XML)), 10)
		b = strconv.AppendInt(append(b, '/'), int64(m.XMLBytes), 10)
	}
	if m.RX {
		b = append(b, " rx"...)
	}
	if m.Err != nil {
		b = append(append(b, " ERROR: "...), m.Err.Error()...)
	}
	return b
}

// learn remembers a writer's command name under its pid and, when it
// differs (pid namespaces), the pid the connection name gives it.
func (f *TextFormatter) learn(pid, serverView uint32, comm string) {
	if comm == "" {
		return
	}
	if len(f.comms) >= maxComms {
		clear(f.comms)
	}
	f.comms[nodePID{f.node, pid}] = comm
	if serverView != 0 && serverView != pid {
		f.comms[nodePID{f.node, serverView}] = comm
	}
}

// nodePID is a pid on a node: a merged capture's nodes may share pid numbers.
type nodePID struct {
	node string
	pid  uint32
}

// appendClient writes pid/comm, with the name learned from the client's
// requests when the message does not carry it.
func (f *TextFormatter) appendClient(b []byte, pid uint32, comm string) []byte {
	b = appendUint(b, uint64(pid))
	if comm == "" {
		comm = f.comms[nodePID{f.node, pid}]
	}
	if comm != "" {
		b = append(append(b, '/'), comm...)
	}
	return b
}

func appendServer(b []byte, m *Message) []byte {
	b = append(b, m.Service...)
	b = append(b, '[')
	b = appendUint(b, uint64(m.ServerPID))
	return append(b, ']')
}

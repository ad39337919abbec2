package capfile

import "strconv"

// comment builds the packet comment of a record's first packet, for people
// reading the file in Wireshark, e.g. "cib_rw request 1234(cibadmin) -> 567".
// Programs read the pseudo-header instead.
func (w *Writer) comment(rec *Record, npkt int) []byte {
	b := w.line[:0]
	if rec.Kind == KindLoss {
		b = append(b, "lost "...)
		b = strconv.AppendUint(b, uint64(rec.Lost), 10)
		b = append(b, " messages: "...)
		b = append(b, rec.Cause.String()...)
	} else {
		if rec.Service != "" {
			b = append(b, rec.Service...)
			b = append(b, ' ')
		}
		if rec.Kind == KindMessage {
			b = append(b, rec.Channel.String()...)
		} else {
			b = append(b, rec.Kind.String()...)
		}
		from, to := rec.ClientPID, rec.ServerPID
		if rec.Channel == ChannelResponse || rec.Channel == ChannelEvent {
			from, to = to, from
		}
		named := false
		b = append(b, ' ')
		b, named = appendPID(b, from, rec, named)
		b = append(b, " -> "...)
		b, named = appendPID(b, to, rec, named)
		if !named && rec.PID != 0 {
			// The connection name holds pids as the server's namespace
			// sees them; the writer may be neither of them there.
			b = append(b, " by "...)
			b = strconv.AppendUint(b, uint64(rec.PID), 10)
			b = appendComm(b, rec.Comm)
		}
		if rec.Flags&FlagRX != 0 {
			b = append(b, ", received"...)
		}
		if rec.Kind == KindConnect && rec.MaxMsgSize != 0 {
			b = append(b, ", max "...)
			b = strconv.AppendUint(b, uint64(rec.MaxMsgSize), 10)
			b = append(b, " bytes"...)
		}
	}
	if len(rec.Data) < int(rec.OrigLen) {
		b = append(b, ", truncated to "...)
		b = strconv.AppendInt(b, int64(len(rec.Data)), 10)
		b = append(b, " of "...)
		b = strconv.AppendUint(b, uint64(rec.OrigLen), 10)
		b = append(b, " bytes"...)
	}
	if npkt > 1 {
		b = append(b, ", "...)
		b = strconv.AppendInt(b, int64(npkt), 10)
		b = append(b, " packets"...)
	}
	w.line = b
	return b
}

// appendPID appends pid, and the writer's comm if pid is the writer and its
// comm is not shown yet.
func appendPID(b []byte, pid uint32, rec *Record, named bool) ([]byte, bool) {
	if pid == 0 {
		return append(b, '?'), named
	}
	b = strconv.AppendUint(b, uint64(pid), 10)
	if !named && (pid == rec.PID || pid == rec.NSPID) {
		b = appendComm(b, rec.Comm)
		named = true
	}
	return b, named
}

func appendComm(b []byte, comm string) []byte {
	if comm == "" {
		return b
	}
	b = append(b, '(')
	b = append(b, comm...)
	return append(b, ')')
}

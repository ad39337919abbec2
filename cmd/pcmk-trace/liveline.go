package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// writeLine prints one record as one line, like tcpdump.
func writeLine(w *bufio.Writer, rec *capfile.Record) {
	w.WriteString(rec.Time.Format("15:04:05.000000 "))
	switch rec.Kind {
	case capfile.KindLoss:
		fmt.Fprintf(w, "LOST %d messages (%s)\n", rec.Lost, lossText(rec.Cause))
		return
	case capfile.KindConnect, capfile.KindDisconnect:
		what := "connect"
		if rec.Kind == capfile.KindDisconnect {
			what = "disconnect"
		}
		fmt.Fprintf(w, "%s[%s] %s %s %s max %d (%s)\n", rec.Comm, writerID(rec), what, rec.Service, rec.Conn,
			rec.MaxMsgSize, rec.Transport)
		return
	}
	dir := ">"
	if rec.Flags&capfile.FlagRX != 0 {
		dir = "<"
	}
	peer := rec.ServerPID
	if rec.Channel != capfile.ChannelRequest {
		peer = rec.ClientPID
	}
	fmt.Fprintf(w, "%s[%s] %s %d %s %s", rec.Comm, writerID(rec), dir, peer, rec.Service, rec.Channel)
	if rec.Transport == capfile.TransportSocket {
		w.WriteString(" (socket)")
	}
	if len(rec.Data) >= 4 {
		fmt.Fprintf(w, " id %d", int32(binary.LittleEndian.Uint32(rec.Data)))
	}
	fmt.Fprintf(w, " %d bytes", rec.OrigLen)
	if rec.Flags&capfile.FlagTruncated != 0 {
		fmt.Fprintf(w, " (%d captured)", len(rec.Data))
	}
	if root := pcmk.Describe(rec.Data); root != "" {
		w.WriteString(" " + root)
	}
	w.WriteByte('\n')
}

// writerID is the writer's pid, followed by its pid in its own namespace
// when they differ: peer pids (from the connection name) are in the
// server's namespace.
func writerID(rec *capfile.Record) string {
	id := strconv.FormatUint(uint64(rec.PID), 10)
	if rec.NSPID != 0 && rec.NSPID != rec.PID {
		id += "/" + strconv.FormatUint(uint64(rec.NSPID), 10)
	}
	return id
}

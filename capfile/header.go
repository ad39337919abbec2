package capfile

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/gopacket/gopacket/layers"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// The pseudo-header in front of the libqb bytes of every packet. FORMAT.md
// describes it byte by byte; the offsets below are the same table.
const (
	HeaderMagic   = "PCMK" // first four bytes of every packet
	HeaderVersion = 1      // layout version this package writes and reads
	HeaderLen     = 176    // length of a version 1 pseudo-header

	// MaxPacketLen is the interface snaplen and the largest packet written:
	// tshark 4.0 refuses a bigger packet and loses the rest of the file, so
	// longer messages are split into continuation packets.
	MaxPacketLen = 262144

	// MaxMessageLen bounds a message's orig_len; a reader rejects larger
	// claims so a crafted file cannot make it buffer without limit.
	MaxMessageLen = 64 << 20

	// LinkTypeUser0 (LINKTYPE_USER0, 147) is the default link type.
	LinkTypeUser0 layers.LinkType = 147

	maxChunk = MaxPacketLen - HeaderLen // data bytes per packet
)

const (
	offMagic      = 0
	offVersion    = 4
	offHeaderLen  = 6
	offKind       = 8
	offChannel    = 9
	offTransport  = 10
	offHook       = 11
	offFlags      = 12
	offSeq        = 16
	offOrigLen    = 24
	offOffset     = 28
	offPID        = 32
	offTID        = 36
	offNSPID      = 40
	offUID        = 44
	offPIDNS      = 48
	offMntNS      = 52
	offClientPID  = 56
	offServerPID  = 60
	offMaxMsgSize = 64
	offLost       = 68
	offCause      = 72
	offReserved   = 76
	offComm       = 80
	offService    = 96
	offConn       = 128

	lenComm    = offService - offComm
	lenService = offConn - offService
	lenConn    = HeaderLen - offConn
)

var le = binary.LittleEndian

// putHeader writes rec's pseudo-header into b[:HeaderLen] with the per-packet
// flags and data offset. The caller has checked the string lengths.
func putHeader(b []byte, rec *Record, flags Flags, offset uint32) {
	b = b[:HeaderLen]
	copy(b[offMagic:], HeaderMagic)
	le.PutUint16(b[offVersion:], HeaderVersion)
	le.PutUint16(b[offHeaderLen:], HeaderLen)
	b[offKind] = byte(rec.Kind)
	b[offChannel] = byte(rec.Channel)
	b[offTransport] = byte(rec.Transport)
	b[offHook] = byte(rec.Hook)
	le.PutUint32(b[offFlags:], uint32(flags))
	le.PutUint64(b[offSeq:], rec.Seq)
	le.PutUint32(b[offOrigLen:], rec.OrigLen)
	le.PutUint32(b[offOffset:], offset)
	le.PutUint32(b[offPID:], rec.PID)
	le.PutUint32(b[offTID:], rec.TID)
	le.PutUint32(b[offNSPID:], rec.NSPID)
	le.PutUint32(b[offUID:], rec.UID)
	le.PutUint32(b[offPIDNS:], rec.PIDNS)
	le.PutUint32(b[offMntNS:], rec.MntNS)
	le.PutUint32(b[offClientPID:], rec.ClientPID)
	le.PutUint32(b[offServerPID:], rec.ServerPID)
	le.PutUint32(b[offMaxMsgSize:], rec.MaxMsgSize)
	le.PutUint32(b[offLost:], rec.Lost)
	le.PutUint32(b[offCause:], uint32(rec.Cause))
	le.PutUint32(b[offReserved:], 0)
	putString(b[offComm:offService], rec.Comm)
	putString(b[offService:offConn], rec.Service)
	putString(b[offConn:HeaderLen], rec.Conn)
}

// putString copies s into the field and NUL-pads the rest.
func putString(field []byte, s string) {
	n := copy(field, s)
	clear(field[n:])
}

// checkStrings reports a string too long for its field. Each keeps a NUL
// terminator so C and Lua readers may treat the fields as C strings.
func checkStrings(rec *Record) error {
	switch {
	case len(rec.Comm) >= lenComm:
		return fmt.Errorf("comm %q is longer than %d bytes", rec.Comm, lenComm-1)
	case len(rec.Service) >= lenService:
		return fmt.Errorf("service %q is longer than %d bytes", rec.Service, lenService-1)
	case len(rec.Conn) >= lenConn:
		return fmt.Errorf("conn %q is longer than %d bytes", rec.Conn, lenConn-1)
	}
	return nil
}

// framing holds the pseudo-header fields that tie packets into messages.
type framing struct {
	flags   Flags
	seq     uint64
	origLen uint32
	offset  uint32
	hdrLen  int
}

// parseFraming checks the pseudo-header at the start of packet p and returns
// its framing fields, or a description of what is wrong with it.
func parseFraming(p []byte) (framing, string) {
	if len(p) < offHeaderLen+2 || string(p[offMagic:offVersion]) != HeaderMagic {
		n := min(len(p), 4)
		return framing{}, fmt.Sprintf("no pcmk-trace pseudo-header: starts with %q, want %q", p[:n], HeaderMagic)
	}
	if v := le.Uint16(p[offVersion:]); v != HeaderVersion {
		return framing{}, fmt.Sprintf("pseudo-header version %d, this reader knows %d", v, HeaderVersion)
	}
	hl := int(le.Uint16(p[offHeaderLen:]))
	if hl < HeaderLen {
		return framing{}, fmt.Sprintf("pseudo-header length %d, want at least %d", hl, HeaderLen)
	}
	if hl > len(p) {
		return framing{}, fmt.Sprintf("pseudo-header length %d, but the packet has only %d bytes", hl, len(p))
	}
	f := framing{
		flags:   Flags(le.Uint32(p[offFlags:])),
		seq:     le.Uint64(p[offSeq:]),
		origLen: le.Uint32(p[offOrigLen:]),
		offset:  le.Uint32(p[offOffset:]),
		hdrLen:  hl,
	}
	if f.origLen > MaxMessageLen {
		return framing{}, fmt.Sprintf("message seq %d: orig_len %d exceeds the %d-byte limit", f.seq, f.origLen, MaxMessageLen)
	}
	if n := uint64(len(p) - hl); uint64(f.offset)+n > uint64(f.origLen) {
		return framing{}, fmt.Sprintf("message seq %d: %d data bytes at offset %d run past orig_len %d", f.seq, n, f.offset, f.origLen)
	}
	return f, ""
}

// decodeIdentity fills rec's header fields (all but Time, Packet and Data)
// from the pseudo-header at the start of p, which parseFraming accepted.
func decodeIdentity(rec *Record, p []byte, f framing, strs *pcmk.Interner) {
	rec.Kind = Kind(p[offKind])
	rec.Channel = Channel(p[offChannel])
	rec.Transport = Transport(p[offTransport])
	rec.Hook = Hook(p[offHook])
	rec.Flags = f.flags &^ (FlagMore | FlagCont)
	rec.Seq = f.seq
	rec.OrigLen = f.origLen
	rec.PID = le.Uint32(p[offPID:])
	rec.TID = le.Uint32(p[offTID:])
	rec.NSPID = le.Uint32(p[offNSPID:])
	rec.UID = le.Uint32(p[offUID:])
	rec.PIDNS = le.Uint32(p[offPIDNS:])
	rec.MntNS = le.Uint32(p[offMntNS:])
	rec.ClientPID = le.Uint32(p[offClientPID:])
	rec.ServerPID = le.Uint32(p[offServerPID:])
	rec.MaxMsgSize = le.Uint32(p[offMaxMsgSize:])
	rec.Lost = le.Uint32(p[offLost:])
	rec.Cause = LossCause(le.Uint32(p[offCause:]))
	rec.Comm = strs.Intern(cString(p[offComm:offService]))
	rec.Service = strs.Intern(cString(p[offService:offConn]))
	rec.Conn = strs.Intern(cString(p[offConn:HeaderLen]))
}

// cString returns field up to its first NUL.
func cString(field []byte) []byte {
	if i := bytes.IndexByte(field, 0); i >= 0 {
		return field[:i]
	}
	return field
}

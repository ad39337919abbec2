package pcmk

import (
	"strconv"
	"strings"
)

// Flags are the crm_ipc_flags of a Pacemaker envelope.
type Flags uint32

// Flag bits. Bit 20 means multipart_end in dialect B and server_info
// (deprecated, never set) in dialect A; [Flags.Names] picks by dialect.
const (
	FlagCompressed           Flags = 0x00000001 // payload is bzip2 (dialect A)
	FlagProxied              Flags = 0x00000100 // relayed for a Pacemaker Remote client
	FlagClientResponse       Flags = 0x00000200 // sender waits for a reply
	FlagServerEvent          Flags = 0x00010000 // sent on the event channel
	FlagServerFree           Flags = 0x00020000 // server-internal, visible on the wire
	FlagProxiedRelayResponse Flags = 0x00040000 // event that is really a reply
	FlagMultipart            Flags = 0x00080000 // part of a multipart message (dialect B)
	FlagMultipartEnd         Flags = 0x00100000 // last part (dialect B)
	FlagServerInfo           Flags = 0x00100000 // dialect A name of bit 20
	FlagServerError          Flags = 0x00200000 // dialect A, deprecated
)

var flagNames = [...]struct {
	bit  Flags
	name string
}{
	{FlagCompressed, "compressed"},
	{FlagProxied, "proxied"},
	{FlagClientResponse, "client_response"},
	{FlagServerEvent, "server_event"},
	{FlagServerFree, "server_free"},
	{FlagProxiedRelayResponse, "proxied_relay_response"},
	{FlagMultipart, "multipart"},
	{FlagMultipartEnd, "multipart_end"},
	{FlagServerError, "server_error"},
}

// knownFlags are the bits each dialect defines.
const (
	knownFlagsA Flags = 0x00370301
	knownFlagsB Flags = 0x001F0301
)

// Names returns the flag names in bit order for dialect d, without the
// crm_ipc_ prefix; bits the dialect does not define appear as one hex
// string ("0x400000"). Zero flags give an empty slice.
func (f Flags) Names(d Dialect) []string {
	if f == 0 {
		return []string{}
	}
	names := make([]string, 0, 4)
	return f.AppendNames(names, d)
}

// AppendNames appends [Flags.Names] to names, for callers that keep the
// slice.
func (f Flags) AppendNames(names []string, d Dialect) []string {
	known := knownFlagsA | knownFlagsB
	switch d {
	case DialectA:
		known = knownFlagsA
	case DialectB:
		known = knownFlagsB
	}
	for _, fn := range flagNames {
		if f&fn.bit == 0 || known&fn.bit == 0 {
			continue
		}
		name := fn.name
		if fn.bit == FlagMultipartEnd && d == DialectA {
			name = "server_info"
		}
		names = append(names, name)
	}
	if rest := f &^ known; rest != 0 {
		names = append(names, "0x"+strconv.FormatUint(uint64(rest), 16))
	}
	return names
}

// Format returns the names joined with "|", or "0" for no flags.
func (f Flags) Format(d Dialect) string {
	if f == 0 {
		return "0"
	}
	var buf [8]string
	return strings.Join(f.AppendNames(buf[:0], d), "|")
}

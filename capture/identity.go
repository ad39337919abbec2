package capture

import "unsafe"

// identity is what a piece's header names, as strings: the writer's
// command, the service and the connection, with the pids the connection's
// name holds.
type identity struct {
	comm, service, conn  string
	serverPID, clientPID uint32
}

// identityKey is a piece header's Comm, Service and Conn arrays as the
// probe wrote them; they lie side by side (TestIdentityKeyLayout).
type identityKey [len(pieceHdr{}.Comm) + len(pieceHdr{}.Service) + len(pieceHdr{}.Conn)]byte

// maxIdentities bounds identities: past it, they start again.
const maxIdentities = 4096

// identities hands out one identity per distinct header: a message then
// costs one map lookup instead of three string lookups and a parse of the
// connection's name, which were a twentieth of the reader's time.
type identities struct {
	m       map[identityKey]*identity
	strings interner // the strings, shared between identities
}

func (ids *identities) get(h *pieceHdr) *identity {
	k := (*identityKey)(unsafe.Add(unsafe.Pointer(h), unsafe.Offsetof(h.Comm)))
	if id := ids.m[*k]; id != nil {
		return id
	}
	if ids.m == nil || len(ids.m) >= maxIdentities {
		ids.m = make(map[identityKey]*identity)
	}
	id := &identity{
		comm:    ids.strings.get(h.Comm[:]),
		service: ids.strings.get(h.Service[:]),
		conn:    ids.strings.get(h.Conn[:]),
	}
	id.serverPID, id.clientPID = connPIDs(id.conn)
	ids.m[*k] = id
	return id
}

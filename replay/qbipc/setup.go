package qbipc

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// Transport is the libqb IPC type a server picked for a connection (enum qb_ipc_type).
type Transport int32

const (
	TransportSocket Transport = 0 // one datagram per message
	TransportSHM    Transport = 1 // ring buffers in shared memory
)

func (t Transport) String() string {
	switch t {
	case TransportSocket:
		return "socket"
	case TransportSHM:
		return "shm"
	case 2:
		return "posix-mq"
	case 3:
		return "sysv-mq"
	case 4:
		return "native"
	}
	return fmt.Sprintf("Transport(%d)", int32(t))
}

const (
	msgAuthenticate = -1 // QB_IPC_MSG_AUTHENTICATE

	setupRequestSize  = 24    // struct qb_ipc_connection_request
	setupResponseSize = 12328 // struct qb_ipc_connection_response
	respNames         = 40    // request[], response[], event[]: 4096 bytes each

	// RequestHeaderSize is the size of libqb's struct qb_ipc_request_header (id at 0,
	// size at 8); every message starts with it.
	RequestHeaderSize = 16

	sunPath = 108  // sizeof(sockaddr_un.sun_path)
	pathMax = 4096 // PATH_MAX: the size of every path field
)

// setupResponse is the server's half of the handshake.
type setupResponse struct {
	errno      int32 // 0 or a negative errno
	transport  Transport
	maxMsgSize uint32
	request    string // SHM: request ring base name; socket: control file
	response   string // SHM: response ring; socket: base of the datagram socket names
	event      string // SHM: event ring; socket: unused
}

func encodeSetupRequest(maxMsgSize uint32) []byte {
	b := make([]byte, setupRequestSize)
	binary.LittleEndian.PutUint32(b[0:], 0xFFFFFFFF) // QB_IPC_MSG_AUTHENTICATE, -1
	binary.LittleEndian.PutUint32(b[8:], setupRequestSize)
	binary.LittleEndian.PutUint32(b[16:], maxMsgSize)
	return b
}

func parseSetupResponse(b []byte) (setupResponse, error) {
	if len(b) != setupResponseSize {
		return setupResponse{}, fmt.Errorf("%d-byte setup response, want %d", len(b), setupResponseSize)
	}
	le := binary.LittleEndian
	if id := int32(le.Uint32(b[0:])); id != msgAuthenticate {
		return setupResponse{}, fmt.Errorf("setup response id %d, want %d", id, msgAuthenticate)
	}
	name := func(i int) string { return cString(b[respNames+i*pathMax : respNames+(i+1)*pathMax]) }
	return setupResponse{
		errno:      int32(le.Uint32(b[16:])),
		transport:  Transport(le.Uint32(b[24:])),
		maxMsgSize: le.Uint32(b[28:]),
		request:    name(0),
		response:   name(1),
		event:      name(2),
	}, nil
}

func cString(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

package qbipc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
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

	sunPath = 108 // sizeof(sockaddr_un.sun_path)
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

// abstractAddr is the address libqb gives name: sun_path[0] = 0, the name from
// sun_path[1] truncated as snprintf would, zero-padded to the full 108 bytes. The
// kernel compares all 108 bytes, so the address length must be sizeof(sockaddr_un), 110;
// golang.org/x/sys/unix cannot express that (it refuses 108-byte names), hence raw calls.
func abstractAddr(name string) *unix.RawSockaddrUnix {
	sa := &unix.RawSockaddrUnix{Family: unix.AF_UNIX}
	for i := 0; i < len(name) && i < sunPath-2; i++ {
		sa.Path[i+1] = int8(name[i])
	}
	return sa
}

func connectAbstract(fd int, name string) error {
	sa := abstractAddr(name)
	_, _, errno := unix.Syscall(unix.SYS_CONNECT, uintptr(fd), uintptr(unsafe.Pointer(sa)), unsafe.Sizeof(*sa))
	if errno != 0 {
		return errno
	}
	return nil
}

func bindAbstract(fd int, name string) error {
	sa := abstractAddr(name)
	_, _, errno := unix.Syscall(unix.SYS_BIND, uintptr(fd), uintptr(unsafe.Pointer(sa)), unsafe.Sizeof(*sa))
	if errno != 0 {
		return errno
	}
	return nil
}

// handshake sends the setup request on conn with SO_PASSCRED on, reads the response and
// the server's SCM_CREDENTIALS, and turns SO_PASSCRED off again, as libqb's client does.
func handshake(ctx context.Context, conn *net.UnixConn, maxMsgSize uint32) (setupResponse, *unix.Ucred, error) {
	defer watchContext(ctx, conn.SetDeadline)()
	rc, err := conn.SyscallConn()
	if err != nil {
		return setupResponse{}, nil, err
	}
	setPassCred := func(on int) error {
		var serr error
		if err := rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_PASSCRED, on)
		}); err != nil {
			return err
		}
		return serr
	}
	if err := setPassCred(1); err != nil {
		return setupResponse{}, nil, fmt.Errorf("set SO_PASSCRED: %w", err)
	}
	if _, err := conn.Write(encodeSetupRequest(maxMsgSize)); err != nil {
		return setupResponse{}, nil, fmt.Errorf("send setup request: %w", ctxErr(ctx, err))
	}
	buf := make([]byte, setupResponseSize)
	oob := make([]byte, unix.CmsgSpace(unix.SizeofUcred))
	var cred *unix.Ucred
	for n := 0; n < len(buf); {
		m, oobn, _, _, err := conn.ReadMsgUnix(buf[n:], oob)
		if m == 0 && err == nil {
			err = io.EOF
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) {
				err = fmt.Errorf("server closed the connection: %w", ErrDisconnected)
			}
			return setupResponse{}, nil, fmt.Errorf("read setup response: %w", ctxErr(ctx, err))
		}
		if cred == nil && oobn > 0 {
			cred = parseCred(oob[:oobn])
		}
		n += m
	}
	if err := setPassCred(0); err != nil {
		return setupResponse{}, nil, fmt.Errorf("clear SO_PASSCRED: %w", err)
	}
	resp, err := parseSetupResponse(buf)
	return resp, cred, err
}

func parseCred(oob []byte) *unix.Ucred {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_CREDENTIALS {
			if c, err := unix.ParseUnixCredentials(&m); err == nil {
				return c
			}
		}
	}
	return nil
}

package qbipc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

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

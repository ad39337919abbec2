//go:build !linux

package qbipc

import (
	"context"
	"net"
)

// Dial returns ErrUnsupported: libqb IPC needs Linux.
func Dial(ctx context.Context, service string, opts Options) (*Client, error) {
	return nil, ErrUnsupported
}

// DialInNamespace returns ErrUnsupported: libqb IPC needs Linux.
func DialInNamespace(ctx context.Context, pid int, service string, opts Options) (*Client, error) {
	return nil, ErrUnsupported
}

// NewClient closes conn and returns ErrUnsupported: libqb IPC needs Linux.
func NewClient(ctx context.Context, conn *net.UnixConn, service string, opts Options) (*Client, error) {
	conn.Close()
	return nil, ErrUnsupported
}

// closeFd is never reached: no Client is made on this system.
func closeFd(fd int) error { return nil }

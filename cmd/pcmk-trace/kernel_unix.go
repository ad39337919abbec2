//go:build unix

package main

import "golang.org/x/sys/unix"

// kernelName returns the kernel's name and release, e.g. "Linux 6.1.0-18-amd64".
func kernelName() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
}

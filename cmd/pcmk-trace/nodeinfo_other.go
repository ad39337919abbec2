//go:build !linux

package main

import "errors"

// utsHostname needs Linux namespaces.
func utsHostname(pid int) (string, error) {
	return "", errors.New("UTS namespaces need Linux")
}

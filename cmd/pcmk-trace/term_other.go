//go:build !linux

package main

import "io"

// isTerminal is false where terminals are not probed: no progress output.
func isTerminal(io.Writer) bool { return false }

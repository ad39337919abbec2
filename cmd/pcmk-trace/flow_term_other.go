//go:build !linux

package main

import "io"

// terminalWidth is 0 where terminals are not probed.
func terminalWidth(io.Writer) int { return 0 }

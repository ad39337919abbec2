package main

import (
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole command to the file named by
// PCMK_TRACE_CPUPROFILE, for maintainers chasing a cost ("go tool pprof" reads it).
// It returns the function that ends the profile.
func startProfile(stderr io.Writer) func() {
	path := os.Getenv("PCMK_TRACE_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintln(stderr, "pcmk-trace: PCMK_TRACE_CPUPROFILE:", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

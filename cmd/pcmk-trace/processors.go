package main

import (
	"os"
	"runtime"
)

// ownProcess is set by main: a command may then tune the Go runtime of the
// whole process, which tests that call run share with each other.
var ownProcess bool

// oneProcessor gives record one Go processor unless GOMAXPROCS says
// otherwise. Its work is one goroutine reading the ring buffer and writing
// the file; a second processor only added threads that spin and wake each
// other: an idle recorder used 4.3-4.4 ms of CPU a second instead of
// 3.4-3.6, and about 9% more per message at 20,000 messages/s. --otlp keeps
// the default: its exporter works beside the reader.
func oneProcessor(o *recordOptions) {
	if ownProcess && o.otlp == "" && os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
}

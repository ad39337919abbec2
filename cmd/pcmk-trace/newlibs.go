package main

import (
	"context"
	"fmt"

	"github.com/pcmk-trace/pcmk-trace/capture"
)

// newLibraries carries the libqb files the tracer found after it opened (a
// package upgrade, a copy under LD_LIBRARY_PATH) to the printing goroutine.
type newLibraries chan capture.Library

// found is capture.Config.OnNewLibrary: it must not block the tracer's watcher.
func (c newLibraries) found(l capture.Library) {
	select {
	case c <- l:
	default: // more new files than lines in flight: the summary still lists them
	}
}

// reportLibraries says on standard error, at once, which new libqb the recorder probes or not.
func (r *recorder) reportLibraries(ctx context.Context, c newLibraries) {
	for {
		var l capture.Library
		select {
		case <-ctx.Done():
			return
		case l = <-c:
		}
		r.mu.Lock()
		r.status.clear()
		if l.Err != nil {
			fmt.Fprintf(r.stderr, "pcmk-trace: record: NOT probing new libqb %s (%s), mapped by pid %d (%s): %v; its messages are not recorded\n",
				l.Name, l.Version, l.PID, l.Comm, l.Err)
		} else {
			fmt.Fprintf(r.stderr, "pcmk-trace: record: probing new libqb %s (%s), mapped by pid %d (%s), which started just now: what it sent before this is not recorded\n",
				l.Name, l.Version, l.PID, l.Comm)
		}
		r.mu.Unlock()
	}
}

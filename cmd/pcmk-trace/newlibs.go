package main

import (
	"context"
	"fmt"
	"time"

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

// socketTransports carries the socket transport's late start (capture.Config.OnSocketTransport).
type socketTransports chan capture.SocketTransport

func (c socketTransports) found(s capture.SocketTransport) {
	select {
	case c <- s:
	default:
	}
}

// reportLibraries says on standard error, at once, which new libqb the recorder probes or
// not, and when the socket transport's hooks were attached late.
func (r *recorder) reportLibraries(ctx context.Context, c newLibraries, sc socketTransports) {
	for {
		var l capture.Library
		select {
		case <-ctx.Done():
			return
		case s := <-sc:
			r.mu.Lock()
			r.status.clear()
			if s.Err != nil {
				fmt.Fprintf(r.stderr, "pcmk-trace: record: the socket transport started (pid %d, %s) but its hooks could not be attached: %v; its messages are not recorded\n", s.PID, s.Comm, s.Err)
			} else {
				fmt.Fprintf(r.stderr, "pcmk-trace: record: the socket transport started (pid %d, %s): its hooks were attached %v later; what it sent before is not recorded\n", s.PID, s.Comm, s.Delay.Round(time.Microsecond))
			}
			r.mu.Unlock()
			continue
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

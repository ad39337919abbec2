package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/prefetch"
)

// input is a capture decoded in goroutines of their own: reading, decoding and the
// command's own work (formatting, aggregating, drawing) keep both cores busy on a
// large capture.
type input struct {
	c       *captureFile
	recs    *prefetch.Stream[*capfile.Record]
	dec     *decode.Reader
	msgs    *prefetch.Stream[*decode.Message]
	live    bool // a pipe: records are handed on one by one, so none waits for records still to come
	stopped bool // the command stopped reading before the end: there is no end to report on
	// redacted is what the capture's section header says was redacted, read
	// before the reading goroutine starts
	redacted string
}

// openInput opens the capture name ("-" for standard input) and starts decoding it with
// opts, whose filter f set; f's relative --since and --until count from the first record.
func openInput(name string, f *filterFlags, opts decode.Options) (*input, error) {
	c, err := openCapture(name)
	if err != nil {
		return nil, err
	}
	f.applyRelative(c.src, &opts.Filter)
	in := &input{c: c, redacted: c.src.r.Section().Redacted}
	// A file is handed on in batches; a pipe (perhaps a live recorder) record by record.
	batch := 64
	if c.size == 0 {
		batch, in.live = 1, true
	}
	in.recs = prefetch.Start(c.src.Next, prefetch.Options[*capfile.Record]{
		Batch: batch, Bytes: prefetchBytes,
		Size: func(r *capfile.Record) int { return len(r.Data) },
		GoesOn: func(err error) bool {
			var fe *capfile.FormatError
			return errors.As(err, &fe) // one damaged packet: the reader goes on
		},
	})
	in.dec = decode.NewReader(in.recs, opts)
	in.msgs = prefetch.Start(in.dec.Next, prefetch.Options[*decode.Message]{
		Batch: batch, Bytes: prefetchBytes,
		Size: func(m *decode.Message) int { return len(m.XML) },
	})
	return in, nil
}

// each hands fn, in order, every message that passes the --op filter ops, until the capture
// ends or fn returns false, with a status line on statusOut (extra, when not nil, adds to
// its text), then warns of an --op no message had. It returns the error that ended the
// stream early (nil at its end); err is the exit of an interruption (ctx done).
func (in *input) each(ctx context.Context, cmd string, ops []string, stderr, statusOut io.Writer,
	extra func() string, fn func(*decode.Message) bool) (readErr, err error) {
	status := in.status(statusOut)
	defer status.clear()
	match := newOpFilter(ops)
	var n uint64
	for {
		if ctx.Err() != nil {
			status.clear()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted after %d messages\n", in.c.name, n)
			return nil, exitCode{1, nil}
		}
		m, err := in.msgs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err // a damaged packet comes as a KindInvalid message; an error ends the capture
			break
		}
		if !match.match(m) {
			continue
		}
		if n++; n%1024 == 0 {
			status.set(false, func() string {
				if extra != nil {
					return in.statusLine(cmd, n) + ", " + extra()
				}
				return in.statusLine(cmd, n)
			})
		}
		if !fn(m) {
			in.stopped = true
			break
		}
	}
	status.clear()
	warnUnknownOps(stderr, cmd, in.c.name, ops, match.seen)
	return readErr, nil
}

// status returns the status line of cmd reading this input, drawn on w.
func (in *input) status(w io.Writer) *status { return newStatus(w, 200*time.Millisecond) }

// statusLine is the status line's text: n messages read, and how far into the input.
func (in *input) statusLine(cmd string, n uint64) string {
	return readStatus(cmd, n, in.c.src.offset.Load(), in.c.size)
}

// Close stops the decoding goroutines and closes the file.
func (in *input) Close() {
	in.msgs.Close()
	in.recs.Close()
	in.c.Close()
}

// reportEnd prints what went wrong reading the capture: the error that ended the stream,
// and the counts of undecodable and lost messages. It reports whether the command should
// exit 1. After a stop before the end (in.stopped), only readErr is known: the decoding
// goroutine may still be running, and the closing statistics were not reached.
func (in *input) reportEnd(stderr io.Writer, readErr error) bool {
	name := in.c.name
	if in.stopped {
		if readErr != nil {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v\n", name, readErr)
		}
		return readErr != nil
	}
	st := in.dec.Stats() // final: the decoding goroutine returned its last error
	if readErr != nil {
		if errors.Is(readErr, capfile.ErrTruncated) {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v (was the recorder killed?); the messages before it are shown\n", name, readErr)
		} else {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v\n", name, readErr)
		}
	}
	// The recorder writes its statistics last, when it stops in order: a capture
	// without them was cut short, even when it ends on a whole block.
	if _, ok := in.c.src.r.Stats(); !ok && readErr == nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: the capture ends without the recorder's closing statistics (was it killed?)\n", name)
	}
	if st.Errors > 0 || st.Lost > 0 || readErr != nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %d messages, %d could not be decoded, %d lost by the recorder\n",
			name, st.Messages, st.Errors, st.Lost)
	}
	return st.Errors > 0 || readErr != nil
}

// readStatus is the status line of a command reading a capture: messages read, input read
// of size (0: unknown).
func readStatus(cmd string, n uint64, off, size int64) string {
	if size > 0 {
		return fmt.Sprintf("%s: %d messages, %s of %s (%d%%)", cmd, n, formatBytes(uint64(off)), formatBytes(uint64(size)), off*100/size)
	}
	return fmt.Sprintf("%s: %d messages, %s", cmd, n, formatBytes(uint64(off)))
}

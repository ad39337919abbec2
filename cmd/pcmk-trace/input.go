package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/prefetch"
)

// filterOptions are the flags that select messages, shared by the commands that read a capture.
type filterOptions struct {
	services []string
	ops      []string
	pids     []uint
	comms    []string
	channels []string
	since    string
	until    string
}

func (o *filterOptions) flags(fs *pflag.FlagSet) {
	fs.StringArrayVar(&o.services, "service", nil, "only this libqb `service` (cib_rw, crmd, attrd, ...); repeatable")
	fs.StringArrayVar(&o.ops, "op", nil, "only this `operation` (cib_query, ping, ...) and its replies; repeatable")
	fs.UintSliceVar(&o.pids, "pid", nil, "only messages written by, or exchanged with, this `pid`; repeatable")
	fs.StringArrayVar(&o.comms, "comm", nil, "only the conversations of processes with this `name`; repeatable")
	fs.StringArrayVar(&o.channels, "channel", nil, "only this `channel`: request, response or event; repeatable")
	fs.StringVar(&o.since, "since", "", "only messages at or after `time` (RFC 3339, or +DURATION after the first message)")
	fs.StringVar(&o.until, "until", "", "only messages before `time` (RFC 3339, or +DURATION after the first message)")
}

// input is a capture file decoded in goroutines of their own: reading, decoding and the
// command's own work keep both cores busy on a large capture.
type input struct {
	file *os.File // nil for standard input
	src  *peekedSource
	recs *prefetch.Stream[*capfile.Record]
	dec  *decode.Reader
	msgs *prefetch.Stream[*decode.Message]
	size int64 // the file's size, or 0 for a pipe
	live bool  // a pipe: records are handed on one by one, so none waits for records still to come
}

// openInput opens the capture name ("-" for standard input) and starts decoding it with opts
// and the filter flags o; cmd names the command in errors.
func openInput(name, cmd string, o *filterOptions, opts decode.Options) (*input, error) {
	opts.Filter.Services = o.services
	opts.Filter.Ops = o.ops
	opts.Filter.Comms = o.comms
	for _, p := range o.pids {
		opts.Filter.PIDs = append(opts.Filter.PIDs, uint32(p))
	}
	for _, c := range o.channels {
		ch, ok := map[string]capfile.Channel{"request": capfile.ChannelRequest, "response": capfile.ChannelResponse, "event": capfile.ChannelEvent}[c]
		if !ok {
			return nil, exitCode{2, fmt.Errorf("%s: unknown channel %q (request, response or event)", cmd, c)}
		}
		opts.Filter.Channels = append(opts.Filter.Channels, ch)
	}
	since, sinceRel, err := parseWhen(o.since)
	if err != nil {
		return nil, exitCode{2, fmt.Errorf("%s: --since: %w", cmd, err)}
	}
	until, untilRel, err := parseWhen(o.until)
	if err != nil {
		return nil, exitCode{2, fmt.Errorf("%s: --until: %w", cmd, err)}
	}

	in := &input{}
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			in.size = st.Size()
		}
		in.file, r = f, f
	}
	cr, err := capfile.NewReader(bufio.NewReaderSize(r, 1<<20))
	if err != nil {
		in.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	in.src = &peekedSource{r: cr}
	if sinceRel != 0 || untilRel != 0 {
		// Relative bounds count from the capture's first record.
		if first := in.src.peek(); first != nil && !first.Time.IsZero() {
			if sinceRel != 0 {
				since = first.Time.Add(sinceRel)
			}
			if untilRel != 0 {
				until = first.Time.Add(untilRel)
			}
		}
	}
	opts.Filter.Since, opts.Filter.Until = since, until
	// A file is handed on in batches; a pipe (perhaps a live recorder) record by record.
	batch := 64
	if in.size == 0 {
		batch, in.live = 1, true
	}
	in.recs = prefetch.Start(in.src.Next, prefetch.Options[*capfile.Record]{
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

// progress returns the progress line of cmd reading this input.
func (in *input) progress(cmd string, stderr, stdout io.Writer) *progress {
	p := newProgress(stderr, stdout, in.size, in.src.offset.Load)
	p.cmd = cmd
	return p
}

// Close stops the decoding goroutines and closes the file.
func (in *input) Close() {
	if in.msgs != nil {
		in.msgs.Close()
	}
	if in.recs != nil {
		in.recs.Close()
	}
	if in.file != nil {
		in.file.Close()
	}
}

// reportEnd prints what went wrong reading name: the error that ended the stream, and the
// counts of undecodable and lost messages. It reports whether the command should exit 1.
func (in *input) reportEnd(stderr io.Writer, name string, readErr error) bool {
	st := in.dec.Stats() // final: the decoding goroutine returned its last error
	if readErr != nil {
		if errors.Is(readErr, capfile.ErrTruncated) {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v (was the recorder killed?); the messages before it are shown\n", name, readErr)
		} else {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v\n", name, readErr)
		}
	}
	if st.Errors > 0 || st.Lost > 0 || readErr != nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %d messages, %d could not be decoded, %d lost by the recorder\n",
			name, st.Messages, st.Errors, st.Lost)
	}
	return st.Errors > 0 || readErr != nil
}

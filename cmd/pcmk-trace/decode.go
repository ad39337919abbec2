package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/prefetch"
)

const decodeExample = `  # the conversation, one line per message
  pcmk-trace decode cib.pcapng

  # what cibadmin said and was told, with the XML
  pcmk-trace decode -v --comm cibadmin cib.pcapng

  # JSON lines for scripts: slow CIB replies
  pcmk-trace decode -f json cib.pcapng | jq 'select(.latency_ns > 1000000)'`

// decodeOptions are the flags of pcmk-trace decode, and what parseDecode makes of them.
type decodeOptions struct {
	format    string
	verbose   bool
	dialect   string
	filter    filterFlags
	channels  []string
	lifecycle bool
	strict    bool
	utc       bool

	file string
	opts decode.Options
}

func (o *decodeOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "text", "output `FORMAT`: text, json (JSON lines) or xml")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "text: print each message's XML, pretty-printed")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `DIALECT`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	o.filter.flags(fs)
	stringsFlag(fs, &o.channels, "channel", "only this `CHANNEL`: request, response or event")
	fs.BoolVar(&o.lifecycle, "lifecycle", false, "also print connection set-up and teardown records")
	fs.BoolVar(&o.strict, "strict-xml", false, "check every message's XML with a full parser (slower)")
	fs.BoolVar(&o.utc, "utc", false, "print times in UTC")
}

// parseDecode parses and checks decode's arguments; it returns nil options when -h was shown.
func parseDecode(args []string, stdout, stderr io.Writer) (*decodeOptions, error) {
	var o decodeOptions
	fs := newFlagSet("decode", "decode [flags] FILE", decodeExample, stdout, stderr)
	o.flags(fs.FlagSet)
	file, done, err := fs.parseFileArg(args, "decode")
	if done || err != nil {
		return nil, err
	}
	o.file = file
	switch o.format {
	case "text", "json", "xml":
	default:
		return nil, exitCode{2, fmt.Errorf("decode: unknown format %q (text, json or xml)", o.format)}
	}
	opts := decode.DefaultOptions
	if opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return nil, exitCode{2, fmt.Errorf("decode: %w", err)}
	}
	opts.StrictXML = o.strict
	opts.Lifecycle = o.lifecycle
	if err := o.filter.apply("decode", &opts.Filter); err != nil {
		return nil, err
	}
	for _, c := range o.channels {
		ch, ok := map[string]capfile.Channel{"request": capfile.ChannelRequest, "response": capfile.ChannelResponse, "event": capfile.ChannelEvent}[c]
		if !ok {
			return nil, exitCode{2, fmt.Errorf("decode: unknown channel %q (request, response or event)", c)}
		}
		opts.Filter.Channels = append(opts.Filter.Channels, ch)
	}
	o.opts = opts
	return &o, nil
}

// newFormatter returns the formatter of o.format, which parseDecode checked.
func (o *decodeOptions) newFormatter(w io.Writer) decode.Formatter {
	switch o.format {
	case "json":
		return decode.NewJSONFormatter(w)
	case "xml":
		return decode.NewXMLFormatter(w)
	}
	tf := decode.NewTextFormatter(w)
	tf.Verbose = o.verbose
	if o.utc {
		tf.Location = time.UTC
	}
	return tf
}

func runDecode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseDecode(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	name, opts := o.file, o.opts

	c, err := openCapture(name)
	if err != nil {
		return err
	}
	defer c.Close()
	src, size := c.src, c.size
	o.filter.applyRelative(src, &opts.Filter)
	// Reading, decoding and formatting run in goroutines of their own, so a
	// large capture keeps both cores busy. A file is handed on in batches; a pipe
	// (perhaps a live recorder) record by record, so no batch waits for records
	// still to come.
	batch := 1
	if size > 0 {
		batch = 64
	}
	recs := prefetch.Start(src.Next, prefetch.Options[*capfile.Record]{
		Batch: batch, Bytes: prefetchBytes,
		Size: func(r *capfile.Record) int { return len(r.Data) },
		GoesOn: func(err error) bool {
			var fe *capfile.FormatError
			return errors.As(err, &fe) // one damaged packet: the reader goes on
		},
	})
	defer recs.Close()
	dr := decode.NewReader(recs, opts)
	msgs := prefetch.Start(dr.Next, prefetch.Options[*decode.Message]{
		Batch: batch, Bytes: prefetchBytes,
		Size: func(m *decode.Message) int { return len(m.XML) },
	})
	defer msgs.Close()
	fm := o.newFormatter(stdout)
	ops := newOpFilter(o.filter.ops)

	// How far a long decode has read, when the output goes elsewhere (a file or a pipe).
	statusOut := stderr
	if isTerminal(stdout) {
		statusOut = io.Discard
	}
	status := newStatus(statusOut, 200*time.Millisecond)
	defer status.clear()
	var n uint64
	var readErr error
	for {
		if ctx.Err() != nil {
			// The decoding goroutine may still be busy: its counts are not final.
			fm.Close()
			status.clear()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted after %d messages\n", name, n)
			return exitCode{1, nil}
		}
		if batch == 1 && !msgs.Ready() {
			// A live pipe: show what came so far before waiting for more.
			if err := fm.Flush(); err != nil {
				return err
			}
		}
		m, err := msgs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if !ops.match(m) {
			continue
		}
		if err := fm.Format(m); err != nil {
			return err
		}
		if n++; n%1024 == 0 {
			status.set(false, func() string { return readStatus("decode", n, src.offset.Load(), size) })
		}
	}
	if err := fm.Close(); err != nil {
		return err
	}
	status.clear()
	st := dr.Stats() // final: the decoding goroutine returned its last error
	warnUnknownOps(stderr, "decode", name, o.filter.ops, ops.seen)
	if readErr != nil {
		if errors.Is(readErr, capfile.ErrTruncated) {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v (was the recorder killed?); the messages before it are shown\n", name, readErr)
		} else {
			fmt.Fprintf(stderr, "pcmk-trace: %s: %v\n", name, readErr)
		}
	}
	// The recorder writes its statistics last, when it stops in order: a capture
	// without them was cut short, even when it ends on a whole block.
	if _, ok := c.src.r.Stats(); !ok && readErr == nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: the capture ends without the recorder's closing statistics (was it killed?)\n", name)
	}
	if st.Errors > 0 || st.Lost > 0 || readErr != nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %d messages, %d could not be decoded, %d lost by the recorder\n",
			name, st.Messages, st.Errors, st.Lost)
	}
	if st.Errors > 0 || readErr != nil {
		return exitCode{1, nil}
	}
	return nil
}

// readStatus is the status line of a command reading a capture: messages read, input read of size (0: unknown).
func readStatus(cmd string, n uint64, off, size int64) string {
	if size > 0 {
		return fmt.Sprintf("%s: %d messages, %s of %s (%d%%)", cmd, n, formatBytes(uint64(off)), formatBytes(uint64(size)), off*100/size)
	}
	return fmt.Sprintf("%s: %d messages, %s", cmd, n, formatBytes(uint64(off)))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/analyse"
	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/prefetch"
)

const decodeExample = `  # the conversation, one line per message
  pcmk-trace decode cib.pcapng

  # what cibadmin said and was told, with the XML
  pcmk-trace decode -v --comm cibadmin cib.pcapng

  # JSON lines for scripts: slow CIB replies
  pcmk-trace decode -f json cib.pcapng | jq 'select(.latency_ns > 1000000)'

  # what request #12 caused on every node of a merged capture
  pcmk-trace decode --follow 12 cluster.pcapng`

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
	follow    uint64
	window    time.Duration

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
	fs.Uint64Var(&o.follow, "follow", 0, "only what request `SEQ` caused, on every node: its replies, its CPG messages and their deliveries, and the reactions within --window")
	fs.DurationVar(&o.window, "window", analyse.DefaultFollowWindow, "with --follow: how long a process that received part of the change may react, a `DURATION`")
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
	if o.window <= 0 {
		return nil, exitCode{2, errors.New("decode: --window must be positive")}
	}
	switch o.format {
	case "text", "json", "xml":
	default:
		return nil, exitCode{2, fmt.Errorf("decode: unknown format %q (text, json or xml)", o.format)}
	}
	var opts decode.Options
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
	// Each message is formatted and forgotten: its memory, and its record's, serve the
	// next ones, and the garbage collector has next to nothing to do. --follow keeps
	// messages, so it does not.
	opts.Recycle = o.follow == 0
	// The decoding goroutine reads each message's root tag; this one checks the rest of
	// its XML before writing it, which shares the work between two cores.
	opts.CheckLater = true

	in, err := openInput(name, &o.filter, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	if in.redacted != "" {
		// Say so before any message: placeholders such as *k3q9* are not the values sent.
		if o.format == "text" {
			fmt.Fprintf(stdout, "# redacted capture (%s): values such as *a1b2* stand for secrets\n", in.redacted)
		} else {
			fmt.Fprintf(stderr, "pcmk-trace: %s: redacted capture (%s): values such as *a1b2* stand for secrets\n", name, in.redacted)
		}
	}
	fm := o.newFormatter(stdout)
	ops := newOpFilter(o.filter.ops)
	if o.format == "text" {
		for _, l := range nodeLines(in.c.src.r) {
			fmt.Fprintln(stdout, "# "+l)
		}
	}

	// How far a long decode has read, when the output goes elsewhere (a file or a pipe).
	statusOut := stderr
	if isTerminal(stdout) {
		statusOut = io.Discard
	}
	status := in.status(statusOut)
	defer status.clear()
	// A file's messages have the rest of their XML checked in a goroutine of their own,
	// between decoding and writing; a live pipe's, here (a stage would hold them back).
	msgs := in.msgs
	if !in.live {
		msgs = prefetch.Start(func() (*decode.Message, error) {
			m, err := in.msgs.Next()
			if err == nil {
				in.dec.Check(m)
			}
			return m, err
		}, prefetch.Options[*decode.Message]{
			Batch: 64, Bytes: prefetchBytes,
			Size: func(m *decode.Message) int { return len(m.XML) },
		})
		defer msgs.Close()
	}
	var n uint64
	var readErr error
	fl := &analyse.Follower{Seq: o.follow, Window: o.window}
	for {
		if ctx.Err() != nil {
			// The decoding goroutine may still be busy: its counts are not final.
			fm.Close()
			status.clear()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted after %d messages\n", name, n)
			return exitCode{1, nil}
		}
		if in.live && !in.msgs.Ready() {
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
		in.dec.Check(m) // done already, but for a live pipe
		if !ops.match(m) {
			if opts.Recycle {
				m.Release()
			}
			continue
		}
		if o.follow != 0 {
			keep, more := fl.Add(m)
			if !more {
				in.stopped = true
				break
			}
			if !keep {
				continue
			}
		}
		if err := fm.Format(m); err != nil {
			return err
		}
		if opts.Recycle {
			m.Release()
		}
		if n++; n%1024 == 0 {
			status.set(false, func() string { return in.statusLine("decode", n) })
		}
	}
	if err := fm.Close(); err != nil {
		return err
	}
	status.clear()
	warnUnknownOps(stderr, "decode", name, o.filter.ops, ops.seen)
	if o.follow != 0 && !fl.Found() {
		fmt.Fprintf(stderr, "pcmk-trace: decode: --follow %d: no such message in %s (or the filters left it out)\n", o.follow, name)
		return exitCode{1, nil}
	}
	if in.reportEnd(stderr, readErr) {
		return exitCode{1, nil}
	}
	return nil
}

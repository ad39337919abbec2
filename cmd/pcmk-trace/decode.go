package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"
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

type decodeOptions struct {
	format    string
	verbose   bool
	dialect   string
	services  []string
	ops       []string
	pids      []uint
	comms     []string
	channels  []string
	since     string
	until     string
	lifecycle bool
	strict    bool
	utc       bool
}

func (o *decodeOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "text", "output `format`: text, json (JSON lines) or xml")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "text: print each message's XML, pretty-printed")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `dialect`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	fs.StringArrayVar(&o.services, "service", nil, "only this libqb `service` (cib_rw, crmd, attrd, ...); repeatable")
	fs.StringArrayVar(&o.ops, "op", nil, "only this `operation` (cib_query, ping, ...) and its replies; repeatable")
	fs.UintSliceVar(&o.pids, "pid", nil, "only messages written by, or exchanged with, this `pid`; repeatable")
	fs.StringArrayVar(&o.comms, "comm", nil, "only the conversations of processes with this `name`; repeatable")
	fs.StringArrayVar(&o.channels, "channel", nil, "only this `channel`: request, response or event; repeatable")
	fs.StringVar(&o.since, "since", "", "only messages at or after `time` (RFC 3339, or +DURATION after the first message)")
	fs.StringVar(&o.until, "until", "", "only messages before `time` (RFC 3339, or +DURATION after the first message)")
	fs.BoolVar(&o.lifecycle, "lifecycle", false, "also print connection set-up and teardown records")
	fs.BoolVar(&o.strict, "strict-xml", false, "check every message's XML with a full parser (slower)")
	fs.BoolVar(&o.utc, "utc", false, "print times in UTC")
}

func runDecode(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o decodeOptions
	fs := newFlagSet("decode", "decode [flags] FILE", decodeExample, stderr)
	o.flags(fs)
	name, done, err := parseFileArg(fs, args, "decode")
	if done || err != nil {
		return err
	}
	var opts decode.Options

	if opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return exitCode{2, err}
	}
	opts.StrictXML = o.strict
	opts.Lifecycle = o.lifecycle
	opts.Filter.Services = o.services
	opts.Filter.Ops = o.ops
	opts.Filter.Comms = o.comms
	for _, p := range o.pids {
		opts.Filter.PIDs = append(opts.Filter.PIDs, uint32(p))
	}
	for _, c := range o.channels {
		ch, ok := map[string]capfile.Channel{"request": capfile.ChannelRequest, "response": capfile.ChannelResponse, "event": capfile.ChannelEvent}[c]
		if !ok {
			return exitCode{2, fmt.Errorf("decode: unknown channel %q (request, response or event)", c)}
		}
		opts.Filter.Channels = append(opts.Filter.Channels, ch)
	}

	var in io.Reader
	var size int64
	if name == "-" {
		in = os.Stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in = f
	}
	cr, err := capfile.NewReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	since, sinceRel, err := parseWhen(o.since)
	if err != nil {
		return exitCode{2, fmt.Errorf("decode: --since: %w", err)}
	}
	until, untilRel, err := parseWhen(o.until)
	if err != nil {
		return exitCode{2, fmt.Errorf("decode: --until: %w", err)}
	}
	src := &peekedSource{r: cr}
	if sinceRel != 0 || untilRel != 0 {
		// Relative bounds count from the capture's first record.
		if first := src.peek(); first != nil && !first.Time.IsZero() {
			if sinceRel != 0 {
				since = first.Time.Add(sinceRel)
			}
			if untilRel != 0 {
				until = first.Time.Add(untilRel)
			}
		}
	}
	opts.Filter.Since, opts.Filter.Until = since, until
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

	var fm decode.Formatter
	switch o.format {
	case "text":
		tf := decode.NewTextFormatter(stdout)
		tf.Verbose = o.verbose
		if o.utc {
			tf.Location = time.UTC
		}
		fm = tf
	case "json":
		fm = decode.NewJSONFormatter(stdout)
	case "xml":
		fm = decode.NewXMLFormatter(stdout)
	default:
		return exitCode{2, fmt.Errorf("decode: unknown format %q (text, json or xml)", o.format)}
	}

	prog := newProgress(stderr, stdout, size, src.offset.Load)
	defer prog.stop()
	var readErr error
	for {
		if ctx.Err() != nil {
			// The decoding goroutine may still be busy: its counts are not final.
			fm.Close()
			prog.stop()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted after %d messages\n", name, prog.n)
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
		if err := fm.Format(m); err != nil {
			return err
		}
		prog.tick()
	}
	if err := fm.Close(); err != nil {
		return err
	}
	prog.stop()
	st := dr.Stats() // final: the decoding goroutine returned its last error
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
	if st.Errors > 0 || readErr != nil {
		return exitCode{1, nil}
	}
	return nil
}

// prefetchBytes bounds each batch between the decode command's stages, so the
// memory ahead of the output stays a few MB even for captures of 5 MB messages.
const prefetchBytes = 1 << 20

// peekedSource is the capture's record stream with the first record readable in advance.
type peekedSource struct {
	r      *capfile.Reader
	offset atomic.Int64 // input read so far, for the progress line in another goroutine
	head   *capfile.Record
	err    error
	peeked bool
}

// peek returns the first record without consuming it, or nil.
func (s *peekedSource) peek() *capfile.Record {
	if !s.peeked {
		s.head, s.err = s.r.Next()
		s.offset.Store(s.r.InputOffset())
		s.peeked = true
	}
	return s.head
}

func (s *peekedSource) Next() (*capfile.Record, error) {
	if s.peeked {
		s.peeked = false
		rec, err := s.head, s.err
		s.head, s.err = nil, nil
		return rec, err
	}
	rec, err := s.r.Next()
	s.offset.Store(s.r.InputOffset())
	return rec, err
}

// parseWhen reads an RFC 3339 time or "+DURATION" (relative to the first message).
func parseWhen(s string) (time.Time, time.Duration, error) {
	if s == "" {
		return time.Time{}, 0, nil
	}
	if strings.HasPrefix(s, "+") {
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, 0, err
		}
		if d == 0 {
			d = 1 // +0s: from the first message on
		}
		return time.Time{}, d, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, 0, err
}

// progress shows how far a long decode has read, on stderr when it is a terminal and the
// output goes elsewhere (a file or a pipe), a few times a second.
type progress struct {
	w       io.Writer
	on      bool
	size    int64
	offset  func() int64
	last    time.Time
	n       uint64
	printed bool
}

func newProgress(stderr, stdout io.Writer, size int64, offset func() int64) *progress {
	return &progress{w: stderr, on: isTerminal(stderr) && !isTerminal(stdout), size: size, offset: offset}
}

func (p *progress) tick() {
	p.n++
	if !p.on || p.n%1024 != 0 {
		return
	}
	now := time.Now()
	if now.Sub(p.last) < 200*time.Millisecond {
		return
	}
	p.last = now
	off := p.offset()
	if p.size > 0 {
		fmt.Fprintf(p.w, "\rdecode: %d messages, %s of %s (%d%%)  ", p.n, formatBytes(uint64(off)), formatBytes(uint64(p.size)), off*100/p.size)
	} else {
		fmt.Fprintf(p.w, "\rdecode: %d messages, %s  ", p.n, formatBytes(uint64(off)))
	}
	p.printed = true
}

func (p *progress) stop() {
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
		p.printed = false
	}
}

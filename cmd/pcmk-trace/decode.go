package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

const decodeExample = `  # the conversation, one line per message
  pcmk-trace decode cib.pcapng

  # what cibadmin said and was told, with the XML
  pcmk-trace decode -v --comm cibadmin cib.pcapng

  # JSON lines for scripts: slow CIB replies
  pcmk-trace decode -f json cib.pcapng | jq 'select(.latency_ns > 1000000)'`

type decodeOptions struct {
	format  string
	verbose bool
	dialect string
	filterOptions
	lifecycle bool
	strict    bool
	utc       bool
}

func (o *decodeOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "text", "output `format`: text, json (JSON lines) or xml")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "text: print each message's XML, pretty-printed")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `dialect`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	o.filterOptions.flags(fs)
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
	opts := decode.DefaultOptions

	if opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return exitCode{2, err}
	}
	opts.StrictXML = o.strict
	opts.Lifecycle = o.lifecycle

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

	in, err := openInput(name, "decode", &o.filterOptions, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	prog := in.progress("decode", stderr, stdout)
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
		if in.live && !in.msgs.Ready() {
			// A live pipe: show what came so far before waiting for more.
			if err := fm.Flush(); err != nil {
				return err
			}
		}
		m, err := in.msgs.Next()
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
	if in.reportEnd(stderr, name, readErr) {
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
	cmd     string // names the command on the line
	w       io.Writer
	on      bool
	size    int64
	offset  func() int64
	last    time.Time
	n       uint64
	printed bool
}

func newProgress(stderr, stdout io.Writer, size int64, offset func() int64) *progress {
	return &progress{cmd: "decode", w: stderr, on: isTerminal(stderr) && !isTerminal(stdout), size: size, offset: offset}
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
		fmt.Fprintf(p.w, "\r%s: %d messages, %s of %s (%d%%)  ", p.cmd, p.n, formatBytes(uint64(off)), formatBytes(uint64(p.size)), off*100/p.size)
	} else {
		fmt.Fprintf(p.w, "\r%s: %d messages, %s  ", p.cmd, p.n, formatBytes(uint64(off)))
	}
	p.printed = true
}

func (p *progress) stop() {
	if p.printed {
		fmt.Fprint(p.w, "\r\033[K")
		p.printed = false
	}
}

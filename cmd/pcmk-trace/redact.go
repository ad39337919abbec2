package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/redact"
)

const redactExample = `  # a capture safe to attach to a bug report
  pcmk-trace redact cib.pcapng -w cib-redacted.pcapng

  # also the IP addresses of fence devices, and a password used in text
  pcmk-trace redact cib.pcapng -w out.pcapng --redact-name '^ipaddr$' --redact-value 'S3cr3t!'`

// redactOptions are the flags of pcmk-trace redact.
type redactOptions struct {
	output string
	rf     redactFlags
	file   string
}

func (o *redactOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "write", "w", "", "write the redacted capture to `FILE` (created 0600; - for standard output)")
	o.rf.flags(fs)
}

// parseRedact parses and checks redact's arguments; it returns nil options when -h was shown.
func parseRedact(args []string, stdout, stderr io.Writer) (*redactOptions, error) {
	var o redactOptions
	fs := newFlagSet("redact", "redact [flags] FILE -w OUT", redactExample, stdout, stderr)
	o.flags(fs.FlagSet)
	file, done, err := fs.parseFileArg(args, "redact")
	if done || err != nil {
		return nil, err
	}
	o.file = file
	if o.output == "" {
		return nil, fs.usageError(errors.New("redact: want -w OUT, where the redacted capture goes"))
	}
	return &o, nil
}

func runRedact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRedact(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	if o.output == "-" && isTerminal(stdout) {
		return exitCode{2, errors.New("redact: -w -: standard output is a terminal; pipe it into a program or name a file")}
	}
	red, err := o.rf.newRedactor("redact")
	if err != nil {
		return err
	}
	if o.output != "-" && o.file != "-" {
		if a, err1 := os.Stat(o.file); err1 == nil {
			if b, err2 := os.Stat(o.output); err2 == nil && os.SameFile(a, b) {
				return exitCode{2, fmt.Errorf("redact: %s: the output would overwrite the input", o.output)}
			}
		}
	}
	c, err := openCapture(o.file)
	if err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	defer c.Close()

	var opts capfile.WriterOptions
	opts.Section = c.src.r.Section()
	opts.Interfaces = c.src.r.Interfaces() // a merged capture keeps its nodes
	if opts.Section.Redacted != "" {
		opts.Section.Redacted += "; then "
	}
	opts.Section.Redacted += o.rf.rules().Describe()
	var w *capfile.Writer
	if o.output == "-" {
		w, err = capfile.NewWriter(stdout, opts)
	} else {
		w, err = capfile.Create(o.output, opts)
	}
	if err != nil {
		return fmt.Errorf("redact: %w", err)
	}

	start := time.Now()
	status := newStatus(stderr, 200*time.Millisecond)
	defer status.clear()
	var n uint64
	var readErr error
	bad := 0
	write := func(recs []*capfile.Record) error {
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				return fmt.Errorf("redact: %w", err)
			}
		}
		return nil
	}
	for {
		if ctx.Err() != nil {
			w.Close()
			status.clear()
			fmt.Fprintf(stderr, "pcmk-trace: redact: interrupted after %d records; %s is incomplete\n", n, o.output)
			return exitCode{1, nil}
		}
		rec, err := c.src.Next()
		var fe *capfile.FormatError
		if errors.As(err, &fe) {
			bad++ // a damaged packet is left out; the reader goes on
			continue
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		if err := write(red.Record(rec)); err != nil {
			return err
		}
		if n++; n%256 == 0 {
			status.set(false, func() string { return readStatus("redact", n, c.src.offset.Load(), c.size) })
		}
	}
	if err := write(red.Flush()); err != nil {
		return err
	}
	if st, ok := c.src.r.Stats(); ok {
		if err := w.WriteStats(st); err != nil {
			return fmt.Errorf("redact: %w", err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("redact: %w", err)
	}
	status.clear()
	s := red.Stats()
	fmt.Fprintf(stderr, "pcmk-trace: redact: %d records, %d messages, %d values redacted in %d messages (%d recompressed, %d multipart) in %v\n",
		s.Records, s.Messages, s.Values, s.Changed, s.Recompressed, s.Reassembled, time.Since(start).Round(time.Millisecond))
	warnRedaction(stderr, "redact", s)
	if bad > 0 {
		fmt.Fprintf(stderr, "pcmk-trace: redact: %s: %d damaged records left out\n", o.file, bad)
	}
	if readErr != nil {
		fmt.Fprintf(stderr, "pcmk-trace: redact: %s: %v; the records before it were written\n", o.file, readErr)
		return exitCode{1, nil}
	}
	return nil
}

// warnRedaction says what redaction could not do exactly.
func warnRedaction(w io.Writer, cmd string, s redact.Stats) {
	if s.PartsAlone > 0 {
		fmt.Fprintf(w, "pcmk-trace: %s: warning: %d parts of incomplete multipart messages were redacted one by one; a secret split between two parts may be left in part\n", cmd, s.PartsAlone)
	}
	if s.Zeroed > 0 {
		fmt.Fprintf(w, "pcmk-trace: %s: %d compressed bodies could not be inflated (cut short or broken) and were zeroed\n", cmd, s.Zeroed)
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/pflag"
	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/export"
)

const exportExample = `  # send a capture's request/reply pairs as spans to Jaeger or Tempo (OTLP/HTTP)
  pcmk-trace export --otlp http://127.0.0.1:4318 cib.pcapng

  # print the spans as JSON lines instead of sending them
  pcmk-trace export --dry-run --service cib_rw cib.pcapng`

type exportOptions struct {
	otlp     string
	dryRun   bool
	dialect  string
	window   time.Duration
	timeout  time.Duration
	filter   filterFlags
	files    []string
	opts     decode.Options
	exporter func(ctx context.Context, stdout io.Writer) (sdktrace.SpanExporter, error)
}

func (o *exportOptions) flags(fs *pflag.FlagSet) {
	fs.StringVar(&o.otlp, "otlp", "", "send spans over OTLP/HTTP to the collector at `URL` (http://HOST:4318)")
	fs.BoolVar(&o.dryRun, "dry-run", false, "print the spans as JSON lines instead of sending them")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `DIALECT`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	fs.DurationVar(&o.window, "window", export.DefaultWindow, "a message sent within `DURATION` of receiving one joins its trace")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up sending the last spans after `DURATION`")
	o.filter.flags(fs)
}

func parseExport(args []string, stdout, stderr io.Writer) (*exportOptions, error) {
	var o exportOptions
	fs := newFlagSet("export", "export --otlp URL [flags] FILE...", exportExample, stdout, stderr)
	o.flags(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil, nil
		}
		return nil, err
	}
	o.files = fs.Args()
	switch {
	case len(o.files) == 0:
		return nil, fs.usageError(errors.New("export: want capture FILEs (or - for standard input)"))
	case o.otlp == "" && !o.dryRun:
		return nil, fs.usageError(errors.New("export: want --otlp URL or --dry-run"))
	case o.otlp != "" && o.dryRun:
		return nil, fs.usageError(errors.New("export: --otlp and --dry-run exclude each other"))
	}
	if o.dryRun {
		o.exporter = func(_ context.Context, stdout io.Writer) (sdktrace.SpanExporter, error) {
			return export.NewJSONExporter(stdout), nil
		}
	} else {
		if _, err := export.NewOTLP(context.Background(), o.otlp); err != nil {
			return nil, exitCode{2, fmt.Errorf("export: --otlp: %w", err)}
		}
		o.exporter = func(ctx context.Context, _ io.Writer) (sdktrace.SpanExporter, error) {
			return export.NewOTLP(ctx, o.otlp)
		}
	}
	var err error
	if o.opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return nil, exitCode{2, fmt.Errorf("export: %w", err)}
	}
	if err := o.filter.apply("export", &o.opts.Filter); err != nil {
		return nil, err
	}
	return &o, nil
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseExport(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	// Every file must open as a capture before a span leaves: a bad name in a list
	// does not leave half an export behind.
	for _, name := range o.files {
		if name == "-" {
			continue
		}
		c, err := openCapture(name)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		c.Close()
	}
	quietOTel()
	exp, err := o.exporter(ctx, stdout)
	if err != nil {
		return fmt.Errorf("export: %w", err)
	}
	start := time.Now()
	sink := export.NewSink(exp, export.SinkOptions{Blocking: true, StopOnError: true})
	var total export.Stats
	var bad bool
	for _, name := range o.files {
		st, fileBad, err := exportFile(ctx, o, name, sink, stderr)
		total = addStats(total, st)
		bad = bad || fileBad
		if err != nil {
			sink.Shutdown(context.Background())
			return err
		}
	}
	sctx, cancel := context.WithTimeout(context.Background(), o.timeout)
	defer cancel()
	shutErr := sink.Shutdown(sctx)
	ss := sink.Stats()
	d := time.Since(start)
	fmt.Fprintf(stderr, "%d spans exported, %d failed, %d dropped in %s (%.0f spans/s); %d requests (%d unanswered), %d notifications, %d traces\n",
		ss.Exported, ss.Failed, ss.Dropped(), d.Round(time.Millisecond), float64(ss.Exported)/d.Seconds(),
		total.Requests, total.Unanswered, total.Notifications, total.Traces)
	switch {
	case ss.Err != nil:
		return exitCode{1, fmt.Errorf("export: %s: %w", o.target(), ss.Err)}
	case shutErr != nil:
		return exitCode{1, fmt.Errorf("export: %s: %w", o.target(), shutErr)}
	case ss.Dropped() > 0:
		return exitCode{1, fmt.Errorf("export: %s: %d spans not sent", o.target(), ss.Dropped())}
	case bad:
		return exitCode{1, nil}
	}
	return nil
}

func (o *exportOptions) target() string {
	if o.dryRun {
		return "standard output"
	}
	return o.otlp
}

// exportFile turns one capture into spans in sink; bad reports damage the
// capture had (reported on stderr), err an interruption.
func exportFile(ctx context.Context, o *exportOptions, name string, sink *export.Sink, stderr io.Writer) (st export.Stats, bad bool, err error) {
	src := sourceOf(name)
	in, err := openInput(name, &o.filter, o.opts)
	if err != nil {
		return st, false, err
	}
	defer in.Close()
	sec := in.c.src.r.Section()
	conv := export.NewConverter(sink, export.Config{Source: src + "\x00" + sectionKey(sec), Node: sec.Host, Window: o.window})
	spans := func() string { return strconv.FormatUint(sink.Stats().Exported, 10) + " spans sent" }
	readErr, err := in.each(ctx, "export", o.filter.ops, stderr, stderr, spans, func(m *decode.Message) bool {
		conv.Add(m)
		return true
	})
	conv.Close()
	if err != nil {
		return conv.Stats(), true, err
	}
	return conv.Stats(), in.reportEnd(stderr, readErr), nil
}

// sourceOf names a capture file for the span ids: its first record's time
// (a file only; standard input cannot be read twice).
func sourceOf(name string) string {
	if name == "-" {
		return "-"
	}
	c, err := openCapture(name)
	if err != nil {
		return name
	}
	defer c.Close()
	if r := c.src.peek(); r != nil {
		return strconv.FormatInt(r.Time.UnixNano(), 10)
	}
	return name
}

// sectionKey is what a section header says of where a capture comes from.
func sectionKey(s capfile.SectionInfo) string {
	return s.Host + "\x00" + s.Recorder + "\x00" + s.Kernel + "\x00" + s.CommandLine
}

func addStats(a, b export.Stats) export.Stats {
	a.Requests += b.Requests
	a.Answered += b.Answered
	a.Unanswered += b.Unanswered
	a.Notifications += b.Notifications
	a.Traces += b.Traces
	a.Errors += b.Errors
	return a
}

// quietOTel keeps the SDK from logging export errors: the summary counts them.
func quietOTel() {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(error) {}))
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/analyse"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

const topExample = `  # the node's IPC, live, per service and operation (c: per client process)
  pcmk-trace top

  # the CIB only, with the event backlog of every connection
  pcmk-trace top --service cib_rw --service cib_ro --rx

  # one JSON line per row and interval, for 10 intervals, keeping the capture
  pcmk-trace top --batch -f json --count 10 -w moment.pcapng

  # play a capture through the view at twice its speed
  pcmk-trace top --speed 2 cib.pcapng`

// topOptions are the flags of pcmk-trace top: record's, and the view's own.
type topOptions struct {
	rec      recordOptions
	interval time.Duration
	batch    bool
	format   string
	speed    float64
	file     string // a capture to play instead of recording
	args     []string
	snapSet  bool // --snaplen was given
}

// topSnaplen is how much of each message top copies when it keeps no
// capture: the libqb and Pacemaker headers and the root start tag are all
// it reads (the longest start tags seen in real captures are about 1 KiB),
// and a node's large messages (whole CIBs in query replies, diffs in
// notifications) then cost the daemons and top little. Compressed
// messages are copied whole: their start tag is in the compressed text.
const topSnaplen = 2048

func (o *topOptions) flags(fs *pflag.FlagSet) {
	o.rec.flags(fs)
	fs.Lookup("write").Usage = "also record what is shown into `FILE` (pcapng)"
	fs.Lookup("count").Usage = "stop after `N` intervals"
	fs.Lookup("duration").Usage = "stop after `DURATION`"
	fs.DurationVarP(&o.interval, "interval", "i", time.Second, "refresh every `DURATION`")
	fs.BoolVarP(&o.batch, "batch", "b", false, "print one block per interval instead of the interactive view (scripts, no terminal)")
	fs.StringVarP(&o.format, "format", "f", "text", "--batch output `FORMAT`: text or json (JSON lines)")
	fs.Float64Var(&o.speed, "speed", 1, "play FILE at `F` times its recorded pace (0: as fast as possible)")
	for _, name := range topRecordOnly {
		if f := fs.Lookup(name); f != nil {
			f.Hidden = true
		}
	}
}

// topRecordOnly are record's flags that top does not act on: its -w keeps what was
// shown as recorded, and live spans come from record --otlp.
var topRecordOnly = []string{"redact", "redact-name", "redact-value", "redact-no-defaults", "otlp"}

// parseTop parses and checks top's arguments; it returns nil options when -h was shown.
func parseTop(args []string, stdout, stderr io.Writer) (*topOptions, error) {
	o := &topOptions{args: args}
	fs := newFlagSet("top", "top [flags] [FILE]", topExample, stdout, stderr)
	o.flags(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil, nil
		}
		return nil, err
	}
	o.snapSet = fs.Changed("snaplen")
	for _, name := range topRecordOnly {
		if fs.Changed(name) {
			return nil, fs.usageError(fmt.Errorf("top: --%s is record's only: record with it, then play the file with top FILE", name))
		}
	}
	switch fs.NArg() {
	case 0:
	case 1:
		o.file = fs.Arg(0)
	default:
		return nil, fs.usageError(fmt.Errorf("top: unexpected argument %q", fs.Arg(1)))
	}
	switch o.format {
	case "text", "json":
	default:
		return nil, exitCode{2, fmt.Errorf("top: unknown format %q (text or json)", o.format)}
	}
	if o.interval <= 0 {
		return nil, exitCode{2, errors.New("top: --interval must be positive")}
	}
	if o.speed < 0 {
		return nil, exitCode{2, errors.New("top: --speed must not be negative")}
	}
	if o.file != "" && (len(o.rec.nsOf) > 0 || o.rec.output != "") {
		return nil, exitCode{2, errors.New("top: --ns-of and -w record live; they do not apply to a FILE")}
	}
	if o.rec.output == "-" {
		return nil, exitCode{2, errors.New("top: -w -: standard output shows the view; name a file")}
	}
	if err := checkServices("top", o.rec.services); err != nil {
		fmt.Fprintf(stderr, "pcmk-trace: warning: %v; showing it as named\n", err)
	}
	return o, nil
}

func runTop(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseTop(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	if o.rec.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.rec.duration)
		defer cancel()
	}
	var src *topSource
	if o.file != "" {
		src, err = openTopFile(o)
	} else {
		src, err = openTopLive(o, stderr)
	}
	if err != nil {
		return err
	}
	if !o.batch && (!isTerminal(stdout) || stdout != os.Stdout) {
		o.batch = true // no terminal to draw on: a block per interval, as top -b
	}
	if o.batch {
		err = runTopBatch(ctx, o, src, stdout)
	} else {
		err = runTopView(ctx, o, src)
	}
	if cerr := closeWithin(src, topStopWait); err == nil {
		err = cerr
	}
	return err
}

// topStopWait bounds each step of top's shutdown: the view is gone already, and a user
// who pressed q waits for the prompt. The kernel detaches what is left when the process
// exits.
const topStopWait = 5 * time.Second

// closeWithin closes src, giving up after d.
func closeWithin(src *topSource, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- src.close() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return errors.New("top: closing the tracer took longer than " + d.String() + "; leaving it to the kernel")
	}
}

// topDecodeOptions are the decode options of top: connection lifecycles
// let closed connections leave the view, and only the root start tag of each
// message is read (its fields are all the view needs; the well-formedness
// check of whole documents, such as the CIB in every query reply, is left to
// decode and stats).
func topDecodeOptions(o *topOptions) decode.Options {
	var opts decode.Options
	opts.Lifecycle = true
	opts.RootOnly = true
	opts.NoRelays = true // top shows no relays: requests' XML is not hashed to link them
	opts.Filter.Services = o.rec.services
	opts.Filter.Comms = o.rec.comms
	opts.Filter.PIDs = o.rec.pids
	return opts
}

// topConfig is the analysis configuration of top: only the IPC limit matters to it.
func topConfig(o *topOptions) analyse.Config { return analyse.Config{Interval: o.interval} }

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/replay"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

const replayExample = `  # does the cluster still answer what it answered when the capture was made?
  pcmk-trace replay ro.pcapng

  # what would be sent, without sending
  pcmk-trace replay --dry-run ro.pcapng

  # a production capture, writes included, against the sandboxed test cluster
  pcmk-trace replay --allow-writes --ns-of $(scripts/testcluster pid) prod.pcapng

  # load: the CIB queries of a capture ten times, as fast as the daemon answers
  pcmk-trace replay --op cib_query --asap --loop 10 ro.pcapng

Exit status: 0 when every reply matched, 1 when one diverged, 2 on errors (a request
not answered, a connection refused, an unreadable capture).`

// replayOptions are the flags of pcmk-trace replay.
type replayOptions struct {
	speed         float64
	asap          bool
	loop          int
	allowWrites   bool
	dryRun        bool
	allClients    bool
	services      []string
	ops           []string
	pids          []uint32
	conns         []string
	masks         []string
	maskElements  []string
	noDefaultMask bool
	format        string
	verbose       bool
	nsOf          int
	dialect       string
	timeout       time.Duration

	file string         // the capture
	opts replay.Options // what config made of the flags
}

func (o *replayOptions) flags(fs *pflag.FlagSet) {
	fs.Float64Var(&o.speed, "speed", 1, "replay `F` times as fast as recorded (0.5: half speed)")
	fs.BoolVar(&o.asap, "asap", false, "send each request as soon as the replies it followed are back")
	fs.IntVar(&o.loop, "loop", 1, "replay the capture `N` times, on new connections each time (load)")
	fs.BoolVar(&o.allowWrites, "allow-writes", false, "send requests that change the cluster (refused otherwise; see replay/OPS.md)")
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "print what would be sent, and send nothing")
	fs.BoolVar(&o.allClients, "all-clients", false, "also replay connections whose client is a Pacemaker daemon")
	stringsFlag(fs, &o.services, "service", "only connections to this libqb service `NAME` (cib_rw, crmd, attrd, ...)")
	stringsFlag(fs, &o.ops, "op", "only requests of this operation `OP` (and their connection's sign-on)")
	pidsFlag(fs, &o.pids, "pid", "only connections of this client or server `PID`")
	stringsFlag(fs, &o.conns, "conn", "only this recorded connection `KEY` (qb-...)")
	stringsFlag(fs, &o.masks, "mask", "also ignore this attribute: `ATTR`, ELEM@ATTR or ELEM[@KEY=VALUE]@ATTR")
	stringsFlag(fs, &o.maskElements, "mask-element", "also ignore these elements: `ELEM` or ELEM[@KEY=VALUE]")
	fs.BoolVar(&o.noDefaultMask, "no-default-mask", false, "start from an empty mask (replay/MASK.md lists the default)")
	fs.StringVarP(&o.format, "format", "f", "text", "report `FORMAT`: text or json")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "text: list every request, not only divergences and failures")
	fs.IntVar(&o.nsOf, "ns-of", 0, "replay into the network and mount namespaces of process `PID` (e.g. a sandboxed cluster's init)")
	fs.IntVar(&o.nsOf, "netns-of", 0, "same as --ns-of")
	fs.MarkHidden("netns-of")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `DIALECT` to send: auto (as recorded), A (2.1.x, 3.0.0) or B (3.0.1+)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up on a connection or a reply after `DURATION`")
}

// replayConfig turns the flags into replay.Options.
func (o *replayOptions) config() (replay.Options, error) {
	opts := replay.Options{
		Speed: o.speed, ASAP: o.asap, Loop: o.loop, AllowWrites: o.allowWrites, AllClients: o.allClients,
		Services: o.services, Ops: o.ops, PIDs: o.pids, Conns: o.conns, Timeout: o.timeout,
	}
	switch {
	case o.speed <= 0:
		return opts, errors.New("--speed must be more than 0")
	case o.loop < 1:
		return opts, errors.New("--loop must be 1 or more")
	case o.timeout <= 0:
		return opts, errors.New("--timeout must be more than 0")
	case o.nsOf < 0:
		return opts, errors.New("--ns-of wants a process id")
	}
	opts.Mask = replay.DefaultMask()
	if o.noDefaultMask {
		opts.Mask = replay.NewMask()
	}
	for _, m := range o.masks {
		if err := opts.Mask.Attr(m); err != nil {
			return opts, err
		}
	}
	for _, m := range o.maskElements {
		if err := opts.Mask.Element(m); err != nil {
			return opts, err
		}
	}
	d, err := decode.ParseDialect(o.dialect)
	if err != nil {
		return opts, err
	}
	opts.Dialect = d
	if pid := o.nsOf; pid > 0 {
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid)); err != nil {
			return opts, fmt.Errorf("--ns-of %d: %w", pid, err)
		}
		opts.Dial = replay.DialQB(func(ctx context.Context, service string, qo qbipc.Options) (*qbipc.Client, error) {
			return qbipc.DialInNamespace(ctx, pid, service, qo)
		})
	}
	return opts, nil
}

// parseReplay parses and checks replay's arguments; it returns nil options when -h was
// shown. The file is not read yet.
func parseReplay(args []string, stdout, stderr io.Writer) (*replayOptions, error) {
	var o replayOptions
	fs := newFlagSet("replay", "replay [flags] FILE", replayExample, stdout, stderr)
	o.flags(fs.FlagSet)
	name, done, err := fs.parseFileArg(args, "replay")
	if done || err != nil {
		return nil, err
	}
	if o.format != "text" && o.format != "json" {
		return nil, exitCode{2, fmt.Errorf("replay: unknown format %q (text or json)", o.format)}
	}
	if err := checkServices("replay", o.services); err != nil {
		return nil, exitCode{2, err}
	}
	o.file = name
	if o.opts, err = o.config(); err != nil {
		return nil, exitCode{2, fmt.Errorf("replay: %w", err)}
	}
	return &o, nil
}

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseReplay(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	name, opts := o.file, o.opts
	c, err := readReplayCapture(name, stderr)
	if err != nil {
		return exitCode{2, err}
	}
	if len(o.ops) > 0 {
		warnUnknownOps(stderr, "replay", name, o.ops, requestOps(c))
	}
	steps, skipped := replay.Plan(c, opts)
	if o.dryRun {
		return printPlan(stdout, steps, skipped, o.format)
	}
	if len(steps) == 0 {
		return exitCode{2, fmt.Errorf("replay: %s: no requests to replay (%s)", name, describeSkipped(skipped))}
	}

	status := newStatus(stderr, 100*time.Millisecond)
	opts.Progress = func(done, total int) {
		if total > 0 {
			status.set(done >= total, func() string { return replayStatus(done, total) })
		}
	}
	rep, runErr := replay.Run(ctx, c, opts)
	status.clear()
	if o.format == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout, replay.TextOptions{Verbose: o.verbose})
	}
	if err != nil {
		return err
	}
	switch {
	case runErr != nil:
		return exitCode{2, fmt.Errorf("replay: %w", runErr)}
	case rep.Totals.Failed > 0:
		return exitCode{2, nil}
	case rep.Totals.Diverged > 0:
		return exitCode{1, nil}
	}
	return nil
}

// replayStatus is replay's status line: requests handled out of the total, as a bar.
func replayStatus(done, total int) string {
	const width = 30
	n := min(done, total) * width / total
	return fmt.Sprintf("replay [%s%s] %d/%d requests", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
}

// requestOps returns the operations of the capture's requests.
func requestOps(c *replay.Capture) map[string]bool {
	seen := map[string]bool{}
	for _, cv := range c.Conversations {
		for _, ex := range cv.Exchanges {
			if ex.Request.Op != "" {
				seen[ex.Request.Op] = true
			}
		}
	}
	return seen
}

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
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
	pids          []uint
	conns         []string
	masks         []string
	maskElements  []string
	noDefaultMask bool
	format        string
	verbose       bool
	nsOf          int
	dialect       string
	timeout       time.Duration
}

func (o *replayOptions) flags(fs *pflag.FlagSet) {
	fs.Float64Var(&o.speed, "speed", 1, "replay `F` times as fast as recorded (0.5: half speed)")
	fs.BoolVar(&o.asap, "asap", false, "send each request as soon as the replies it followed are back")
	fs.IntVar(&o.loop, "loop", 1, "replay the capture `N` times, on new connections each time (load)")
	fs.BoolVar(&o.allowWrites, "allow-writes", false, "send requests that change the cluster (refused otherwise; see replay/OPS.md)")
	fs.BoolVarP(&o.dryRun, "dry-run", "n", false, "print what would be sent, and send nothing")
	fs.BoolVar(&o.allClients, "all-clients", false, "also replay connections whose client is a Pacemaker daemon")
	fs.StringArrayVar(&o.services, "service", nil, "only connections to this libqb `service` (cib_rw, crmd, attrd, ...); repeatable")
	fs.StringArrayVar(&o.ops, "op", nil, "only requests of this `operation` (and their connection's sign-on); repeatable")
	fs.UintSliceVar(&o.pids, "pid", nil, "only connections of this client or server `pid`; repeatable")
	fs.StringArrayVar(&o.conns, "conn", nil, "only this recorded `connection` key (qb-...); repeatable")
	fs.StringArrayVar(&o.masks, "mask", nil, "also ignore this attribute: `ATTR`, ELEM@ATTR or ELEM[@KEY=VALUE]@ATTR; repeatable")
	fs.StringArrayVar(&o.maskElements, "mask-element", nil, "also ignore these elements: `ELEM` or ELEM[@KEY=VALUE]; repeatable")
	fs.BoolVar(&o.noDefaultMask, "no-default-mask", false, "start from an empty mask (replay/MASK.md lists the default)")
	fs.StringVarP(&o.format, "format", "f", "text", "report `format`: text or json")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "text: list every request, not only divergences and failures")
	fs.IntVar(&o.nsOf, "ns-of", 0, "replay into the network and mount namespaces of process `PID` (e.g. a sandboxed cluster's init)")
	fs.IntVar(&o.nsOf, "netns-of", 0, "same as --ns-of")
	fs.MarkHidden("netns-of")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `dialect` to send: auto (as recorded), A (2.1.x, 3.0.0) or B (3.0.1+)")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "give up on a connection or a reply after `D`")
	fs.Lookup("pid").DefValue = ""
}

// replayConfig turns the flags into replay.Options.
func (o *replayOptions) config() (replay.Options, error) {
	opts := replay.Options{
		Speed: o.speed, ASAP: o.asap, Loop: o.loop, AllowWrites: o.allowWrites, AllClients: o.allClients,
		Services: o.services, Ops: o.ops, Conns: o.conns, Timeout: o.timeout,
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
	for _, p := range o.pids {
		opts.PIDs = append(opts.PIDs, uint32(p))
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

func runReplay(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o replayOptions
	fs := newFlagSet("replay", "replay [flags] FILE", replayExample, stderr)
	o.flags(fs)
	name, done, err := parseFileArg(fs, args, "replay")
	if done || err != nil {
		return err
	}
	if o.format != "text" && o.format != "json" {
		return exitCode{2, fmt.Errorf("replay: unknown format %q (text or json)", o.format)}
	}
	opts, err := o.config()
	if err != nil {
		return exitCode{2, fmt.Errorf("replay: %w", err)}
	}

	c, err := readReplayCapture(name, stderr)
	if err != nil {
		return exitCode{2, err}
	}
	steps, skipped := replay.Plan(c, opts)
	if o.dryRun {
		return printPlan(stdout, steps, skipped, o.format)
	}
	if len(steps) == 0 {
		return exitCode{2, fmt.Errorf("replay: %s: no requests to replay (%s)", name, describeSkipped(skipped))}
	}

	bar := newReplayBar(stderr)
	opts.Progress = bar.update
	rep, runErr := replay.Run(ctx, c, opts)
	bar.stop()
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

// readReplayCapture reads and rebuilds a capture; damage is reported and left out.
func readReplayCapture(name string, stderr io.Writer) (*replay.Capture, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	c, err := replay.ReadCapture(bufio.NewReaderSize(in, 1<<20))
	switch {
	case errors.Is(err, capfile.ErrTruncated):
		fmt.Fprintf(stderr, "pcmk-trace: %s: %v (was the recorder killed?); replaying what it holds\n", name, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if c.Stats.Errors > 0 || c.Stats.Lost > 0 {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %d messages could not be decoded, %d lost by the recorder; their requests are not replayed\n",
			name, c.Stats.Errors, c.Stats.Lost)
	}
	return c, nil
}

func describeSkipped(s replay.Skipped) string {
	proxied := ""
	if s.Proxied > 0 {
		proxied = fmt.Sprintf(" (%d the controller relaying remote nodes' clients)", s.Proxied)
	}
	return fmt.Sprintf("left out: %d connections of daemons (--all-clients)%s, %d of other services, %d filtered",
		s.Daemons, proxied, s.NotPacemaker, s.Filtered)
}

// printPlan writes what a replay would send: one line per request and its XML, or one
// JSON object per request.
func printPlan(w io.Writer, steps []replay.Step, skipped replay.Skipped, format string) error {
	bw := bufio.NewWriter(w)
	if format == "json" {
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, s := range steps {
			ex := s.Exchange
			action := "send"
			if s.Refused {
				action = "refuse"
			}
			if err := enc.Encode(map[string]any{
				"offset_ns": int64(s.Offset), "conn": ex.Conv.Conn, "service": ex.Conv.Service, "comm": ex.Conv.Comm,
				"seq": ex.Request.Seq, "op": ex.Request.Op, "class": ex.Class.String(), "action": action,
				"flags": uint32(ex.Request.Flags), "replies": len(ex.Replies()), "xml": string(ex.Request.XML),
			}); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	for _, s := range steps {
		ex := s.Exchange
		action := "send"
		if s.Refused {
			action = "REFUSE (a write; --allow-writes sends it)"
		}
		fmt.Fprintf(bw, "+%.6fs %s %s %s[%d] %s (%s): %s\n", s.Offset.Seconds(), ex.Conv.Service, ex.Conv.Conn,
			ex.Conv.Comm, ex.Conv.PID, ex.Request.Op, ex.Class, action)
		fmt.Fprintf(bw, "    %s\n", ex.Request.XML)
	}
	fmt.Fprintf(bw, "%d requests; %s\n", len(steps), describeSkipped(skipped))
	fmt.Fprintf(bw, "Client ids handed out at sign-on are put into later requests when they are sent.\n")
	return bw.Flush()
}

// replayBar shows requests handled out of the total on stderr when it is a terminal.
type replayBar struct {
	w       io.Writer
	on      bool
	mu      sync.Mutex
	last    time.Time
	printed bool
}

func newReplayBar(stderr io.Writer) *replayBar {
	return &replayBar{w: stderr, on: isTerminal(stderr)}
}

func (b *replayBar) update(done, total int) {
	if !b.on || total == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	if done < total && now.Sub(b.last) < 100*time.Millisecond {
		return
	}
	b.last = now
	const width = 30
	n := done * width / total
	fmt.Fprintf(b.w, "\rreplay [%s%s] %d/%d requests ", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total)
	b.printed = true
}

func (b *replayBar) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.printed {
		fmt.Fprint(b.w, "\r\033[K")
		b.printed = false
	}
}

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

const flowExample = `  # who talked to whom, as an SVG to open in a browser (hover an arrow for details)
  pcmk-trace flow -o flow.svg cib.pcapng

  # in the terminal: what cibadmin asked and was told
  pcmk-trace flow -f text --comm cibadmin cib.pcapng

  # message #4812's conversation and what followed it within 200ms, for a Markdown page
  pcmk-trace flow -f mermaid --around 4812 --window 200ms cib.pcapng`

type flowOptions struct {
	format string
	output string
	filter filterFlags
	around uint64
	follow uint64
	window time.Duration
	max    int
	width  int

	file string
	opts decode.Options
}

func (o *flowOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "svg", "output `FORMAT`: svg, text, mermaid or plantuml")
	fs.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output")
	o.filter.flags(fs)
	fs.Uint64Var(&o.around, "around", 0, "only message `SEQ`'s conversation (its connection) and all messages within --window after it")
	fs.Uint64Var(&o.follow, "follow", 0, "only what request `SEQ` caused, on every node (see decode --follow)")
	fs.DurationVar(&o.window, "window", time.Second, "with --around: how far before (same connection) and after (any) to look; with --follow: how long a process may react (then 2s unless given); a `DURATION`")
	fs.IntVar(&o.max, "max", 500, "draw at most `N` arrows (0: no limit)")
	fs.IntVar(&o.width, "width", 0, "text: cut lines to `N` columns (default: the terminal's width, else 120)")
}

var flowWriters = map[string]func(io.Writer, *analyse.Flow) error{
	"svg":      analyse.WriteFlowSVG,
	"mermaid":  analyse.WriteFlowMermaid,
	"plantuml": analyse.WriteFlowPlantUML,
	"text":     nil, // needs a width: see runFlow
}

// parseFlow parses and checks flow's arguments; it returns nil options when -h was shown.
func parseFlow(args []string, stdout, stderr io.Writer) (*flowOptions, error) {
	var o flowOptions
	fs := newFlagSet("flow", "flow [flags] FILE", flowExample, stdout, stderr)
	o.flags(fs.FlagSet)
	file, done, err := fs.parseFileArg(args, "flow")
	if done || err != nil {
		return nil, err
	}
	o.file = file
	if o.follow != 0 && !fs.Changed("window") {
		o.window = analyse.DefaultFollowWindow
	}
	if o.follow != 0 && o.around != 0 {
		return nil, exitCode{2, errors.New("flow: --around and --follow select differently: give one")}
	}
	if _, ok := flowWriters[o.format]; !ok {
		return nil, exitCode{2, fmt.Errorf("flow: unknown format %q (svg, text, mermaid or plantuml)", o.format)}
	}
	if o.max < 0 || o.window < 0 {
		return nil, exitCode{2, errors.New("flow: --max and --window must not be negative")}
	}
	o.opts = decode.Options{}
	if err := o.filter.apply("flow", &o.opts.Filter); err != nil {
		return nil, err
	}
	return &o, nil
}

func runFlow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseFlow(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	name, opts := o.file, o.opts
	in, err := openInput(name, &o.filter, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	b := analyse.NewFlowBuilder(analyse.FlowOptions{Max: o.max, Around: o.around, Window: o.window})
	fl := &analyse.Follower{Seq: o.follow, Window: o.window}
	readErr, err := in.each(ctx, "flow", o.filter.ops, stderr, stderr, nil, func(m *decode.Message) bool {
		if o.follow != 0 {
			keep, more := fl.Add(m)
			if !keep {
				return more
			}
			if !more {
				return false
			}
		}
		return b.Add(m)
	})
	if err != nil {
		return err
	}
	bad := in.reportEnd(stderr, readErr)
	if !b.Found() {
		return exitCode{1, fmt.Errorf("flow: --around %d: no such message in %s (or the filters left it out)", o.around, name)}
	}
	if o.follow != 0 && !fl.Found() {
		return exitCode{1, fmt.Errorf("flow: --follow %d: no such message in %s (or the filters left it out)", o.follow, name)}
	}
	f := b.Flow()
	if f.Cut() {
		note := fmt.Sprintf("showing the first %d of %d selected messages: narrow the selection with --since/--until, --around SEQ, --service, --op or --comm, or raise --max",
			len(f.Arrows), f.Selected)
		f.Notes = append(f.Notes, note)
		fmt.Fprintf(stderr, "pcmk-trace: flow: %s\n", note)
	}

	out := stdout
	if o.output != "" && o.output != "-" {
		file, err := os.Create(o.output)
		if err != nil {
			return err
		}
		defer file.Close()
		out = file
	}
	if o.format == "text" {
		width := o.width
		if width == 0 {
			if width = terminalWidth(out); width == 0 {
				width = 120
			}
		}
		err = analyse.WriteFlowText(out, f, width)
	} else {
		err = flowWriters[o.format](out, f)
	}
	if err != nil {
		return fmt.Errorf("flow: writing %s: %w", o.format, err)
	}
	if file, ok := out.(*os.File); ok && out != stdout {
		if err := file.Close(); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
	}
	if bad {
		return exitCode{1, nil}
	}
	return nil
}

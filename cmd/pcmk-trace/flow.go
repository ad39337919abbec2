package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/analyse"
	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

const flowExample = `  # who talked to whom, as an SVG to open in a browser (hover an arrow for details)
  pcmk-trace flow -o flow.svg cib.pcapng

  # in the terminal: what cibadmin asked and was told
  pcmk-trace flow -f text --comm cibadmin cib.pcapng

  # message #4812's conversation and what followed it within 200ms, for a Markdown page
  pcmk-trace flow -f mermaid --around 4812 --window 200ms cib.pcapng`

type flowOptions struct {
	format   string
	output   string
	services []string
	ops      []string
	pids     []uint
	comms    []string
	since    string
	until    string
	around   uint64
	window   time.Duration
	max      int
	width    int
}

func (o *flowOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "svg", "output `format`: svg, text, mermaid or plantuml")
	fs.StringVarP(&o.output, "output", "o", "", "write to `FILE` instead of standard output")
	fs.StringArrayVar(&o.services, "service", nil, "only this libqb `service` (cib_rw, crmd, attrd, ...); repeatable")
	fs.StringArrayVar(&o.ops, "op", nil, "only this `operation` (cib_query, ping, ...) and its replies; repeatable")
	fs.UintSliceVar(&o.pids, "pid", nil, "only messages written by, or exchanged with, this `pid`; repeatable")
	fs.StringArrayVar(&o.comms, "comm", nil, "only the conversations of processes with this `name`; repeatable")
	fs.StringVar(&o.since, "since", "", "only messages at or after `time` (RFC 3339, or +DURATION after the first message)")
	fs.StringVar(&o.until, "until", "", "only messages before `time` (RFC 3339, or +DURATION after the first message)")
	fs.Uint64Var(&o.around, "around", 0, "only message `SEQ`'s conversation (its connection) and all messages within --window after it")
	fs.DurationVar(&o.window, "window", time.Second, "with --around: how far before (same connection) and after (any) to look")
	fs.IntVar(&o.max, "max", 500, "draw at most `N` arrows (0: no limit)")
	fs.IntVar(&o.width, "width", 0, "text: cut lines to `N` columns (default: the terminal's width, else 120)")
}

func runFlow(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o flowOptions
	fs := newFlagSet("flow", "flow [flags] FILE", flowExample, stderr)
	o.flags(fs)
	name, done, err := parseFileArg(fs, args, "flow")
	if done || err != nil {
		return err
	}
	write := map[string]func(io.Writer, *analyse.Flow) error{
		"svg":      analyse.WriteFlowSVG,
		"mermaid":  analyse.WriteFlowMermaid,
		"plantuml": analyse.WriteFlowPlantUML,
		"text":     nil,
	}
	if _, ok := write[o.format]; !ok {
		return exitCode{2, fmt.Errorf("flow: unknown format %q (svg, text, mermaid or plantuml)", o.format)}
	}
	if o.max < 0 || o.window < 0 {
		return exitCode{2, errors.New("flow: --max and --window must not be negative")}
	}

	opts := decode.DefaultOptions
	opts.Filter.Services = o.services
	opts.Filter.Ops = o.ops
	opts.Filter.Comms = o.comms
	for _, p := range o.pids {
		opts.Filter.PIDs = append(opts.Filter.PIDs, uint32(p))
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
	src := &peekedSource{r: cr}
	if opts.Filter.Since, opts.Filter.Until, err = flowWhen(src, o.since, o.until); err != nil {
		return exitCode{2, fmt.Errorf("flow: %w", err)}
	}

	dr := decode.NewReader(src, opts)
	b := analyse.NewFlowBuilder(analyse.FlowOptions{Max: o.max, Around: o.around, Window: o.window})
	prog := newProgress(stderr, stdout, size, src.offset.Load)
	defer prog.stop()
	var readErr error
	for {
		if ctx.Err() != nil {
			prog.stop()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted\n", name)
			return exitCode{1, nil}
		}
		m, err := dr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A damaged packet comes as a KindInvalid message; an error ends the capture.
			readErr = err
			break
		}
		prog.tick()
		if !b.Add(m) {
			break
		}
	}
	prog.stop()
	if readErr != nil {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %v; the messages before it are shown\n", name, readErr)
	}
	if !b.Found() {
		return exitCode{1, fmt.Errorf("flow: --around %d: no such message in %s (or the filters left it out)", o.around, name)}
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
		err = write[o.format](out, f)
	}
	if err != nil {
		return fmt.Errorf("flow: writing %s: %w", o.format, err)
	}
	if file, ok := out.(*os.File); ok && out != stdout {
		if err := file.Close(); err != nil {
			return fmt.Errorf("flow: %w", err)
		}
	}
	if readErr != nil {
		return exitCode{1, nil}
	}
	return nil
}

// flowWhen reads --since and --until as decode does: RFC 3339, or
// +DURATION after the capture's first record.
func flowWhen(src *peekedSource, sinceArg, untilArg string) (since, until time.Time, err error) {
	since, sinceRel, err := parseWhen(sinceArg)
	if err != nil {
		return since, until, fmt.Errorf("--since: %w", err)
	}
	until, untilRel, err := parseWhen(untilArg)
	if err != nil {
		return since, until, fmt.Errorf("--until: %w", err)
	}
	if sinceRel != 0 || untilRel != 0 {
		if first := src.peek(); first != nil && !first.Time.IsZero() {
			if sinceRel != 0 {
				since = first.Time.Add(sinceRel)
			}
			if untilRel != 0 {
				until = first.Time.Add(untilRel)
			}
		}
	}
	return since, until, nil
}

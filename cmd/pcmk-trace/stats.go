package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/analyse"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

const statsExample = `  # every table: slow operations, busy clients, backlogs, rate, sizes, fan-out, loss
  pcmk-trace stats cib.pcapng

  # the CIB's response times as CSV
  pcmk-trace stats --table ops --service cib_rw -f csv cib.pcapng

  # messages per 10 seconds as JSON lines
  pcmk-trace stats --table rate --interval 10s -f json cib.pcapng`

type statsOptions struct {
	format   string
	tables   []string
	interval time.Duration
	dialect  string
	filterOptions
	utc bool
}

func (o *statsOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "text", "output `format`: text (aligned tables), json (JSON lines) or csv")
	fs.StringSliceVar(&o.tables, "table", nil, "only these `tables`: "+strings.Join(analyse.TableNames, ", ")+"; repeatable or comma-separated (default all)")
	fs.DurationVar(&o.interval, "interval", time.Second, "`width` of one row of the rate table")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `dialect`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	o.filterOptions.flags(fs)
	fs.BoolVar(&o.utc, "utc", false, "text: print times in UTC")
}

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o statsOptions
	fs := newFlagSet("stats", "stats [flags] FILE", statsExample, stderr)
	o.flags(fs)
	name, done, err := parseFileArg(fs, args, "stats")
	if done || err != nil {
		return err
	}
	switch o.format {
	case "text", "json", "csv":
	default:
		return exitCode{2, fmt.Errorf("stats: unknown format %q (text, json or csv)", o.format)}
	}
	if o.interval <= 0 {
		return exitCode{2, fmt.Errorf("stats: --interval must be positive")}
	}
	agg := analyse.New(analyse.Config{Interval: o.interval})
	if _, err := agg.Tables(o.tables...); err != nil {
		return exitCode{2, fmt.Errorf("stats: --table: %w", err)}
	}
	opts := decode.DefaultOptions
	if opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return exitCode{2, err}
	}

	in, err := openInput(name, "stats", &o.filterOptions, opts)
	if err != nil {
		return err
	}
	defer in.Close()
	// The tables come at the end: show progress even when they go to the terminal.
	prog := in.progress("stats", stderr, io.Discard)
	defer prog.stop()
	var readErr error
	for {
		if ctx.Err() != nil {
			prog.stop()
			fmt.Fprintf(stderr, "pcmk-trace: %s: interrupted after %d messages\n", name, prog.n)
			return exitCode{1, nil}
		}
		m, err := in.msgs.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			readErr = err
			break
		}
		agg.Add(m)
		prog.tick()
	}
	prog.stop()
	tables, err := agg.Tables(o.tables...)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		err = analyse.WriteJSON(stdout, tables)
	case "csv":
		err = analyse.WriteCSV(stdout, tables)
	default:
		var loc *time.Location
		if o.utc {
			loc = time.UTC
		}
		err = analyse.WriteText(stdout, tables, loc)
	}
	if err != nil {
		return err
	}
	if in.reportEnd(stderr, name, readErr) {
		return exitCode{1, nil}
	}
	return nil
}

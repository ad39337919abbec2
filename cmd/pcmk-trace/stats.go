package main

import (
	"context"
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
	filter   filterFlags
	utc      bool

	file string
	opts decode.Options
}

func (o *statsOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "format", "f", "text", "output `FORMAT`: text (aligned tables), json (JSON lines) or csv")
	stringsFlag(fs, &o.tables, "table", "only this `TABLE`: "+strings.Join(analyse.TableNames, ", ")+" (default all)")
	fs.DurationVar(&o.interval, "interval", time.Second, "`DURATION` of one row of the rate table")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `DIALECT`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	o.filter.flags(fs)
	fs.BoolVar(&o.utc, "utc", false, "text: print times in UTC")
}

// parseStats parses and checks stats' arguments; it returns nil options when -h was shown.
func parseStats(args []string, stdout, stderr io.Writer) (*statsOptions, error) {
	var o statsOptions
	fs := newFlagSet("stats", "stats [flags] FILE", statsExample, stdout, stderr)
	o.flags(fs.FlagSet)
	file, done, err := fs.parseFileArg(args, "stats")
	if done || err != nil {
		return nil, err
	}
	o.file = file
	switch o.format {
	case "text", "json", "csv":
	default:
		return nil, exitCode{2, fmt.Errorf("stats: unknown format %q (text, json or csv)", o.format)}
	}
	if o.interval <= 0 {
		return nil, exitCode{2, fmt.Errorf("stats: --interval must be positive")}
	}
	if _, err := analyse.New(analyse.Config{}).Tables(o.tables...); err != nil {
		return nil, exitCode{2, fmt.Errorf("stats: --table: %w", err)}
	}
	o.opts = decode.Options{}
	if o.opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return nil, exitCode{2, fmt.Errorf("stats: %w", err)}
	}
	if err := o.filter.apply("stats", &o.opts.Filter); err != nil {
		return nil, err
	}
	return &o, nil
}

func runStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseStats(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	name := o.file
	agg := analyse.New(analyse.Config{Interval: o.interval})
	in, err := openInput(name, &o.filter, o.opts)
	if err != nil {
		return err
	}
	defer in.Close()
	// The tables come at the end: show progress even when they go to the terminal.
	readErr, err := in.each(ctx, "stats", o.filter.ops, stderr, stderr, nil, func(m *decode.Message) bool {
		agg.Add(m)
		return true
	})
	if err != nil {
		return err
	}
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
	if in.reportEnd(stderr, readErr) {
		return exitCode{1, nil}
	}
	return nil
}

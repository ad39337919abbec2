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
	"github.com/pcmk-trace/pcmk-trace/decode"
)

const reportExample = `  # one HTML page to open in a browser (or attach to a bug): tables, charts, busiest second
  pcmk-trace report -o report.html cib.pcapng

  # only the CIB's traffic after the first minute, times in UTC
  pcmk-trace report --service cib_rw,cib_ro --since 1m --utc -o cib.html cib.pcapng`

type reportOptions struct {
	output  string
	flowMax int
	dialect string
	filter  filterFlags
	utc     bool

	file string
	opts decode.Options
}

func (o *reportOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "output", "o", "", "write the HTML page to `FILE` (required; - for standard output)")
	fs.IntVar(&o.flowMax, "flow-max", 300, "draw at most `N` arrows of the busiest second")
	fs.StringVar(&o.dialect, "dialect", "auto", "Pacemaker envelope `DIALECT`: auto, A (2.1.x, 3.0.0) or B (3.0.1+)")
	o.filter.flags(fs)
	fs.BoolVar(&o.utc, "utc", false, "show times in UTC")
}

// parseReport parses and checks report's arguments; it returns nil options when -h was shown.
func parseReport(args []string, stdout, stderr io.Writer) (*reportOptions, error) {
	var o reportOptions
	fs := newFlagSet("report", "report [flags] -o FILE.html FILE", reportExample, stdout, stderr)
	o.flags(fs.FlagSet)
	file, done, err := fs.parseFileArg(args, "report")
	if done || err != nil {
		return nil, err
	}
	o.file = file
	if o.output == "" {
		return nil, fs.usageError(errors.New("report: want -o FILE.html (or -o - for standard output)"))
	}
	if o.flowMax <= 0 {
		return nil, exitCode{2, errors.New("report: --flow-max must be positive")}
	}
	o.opts = decode.Options{}
	if o.opts.Dialect, err = decode.ParseDialect(o.dialect); err != nil {
		return nil, exitCode{2, fmt.Errorf("report: %w", err)}
	}
	if err := o.filter.apply("report", &o.opts.Filter); err != nil {
		return nil, err
	}
	return &o, nil
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseReport(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	name := o.file
	in, err := openInput(name, &o.filter, o.opts)
	if err != nil {
		return err
	}
	defer in.Close()
	rep := analyse.NewReport(analyse.ReportOptions{FlowMax: o.flowMax})
	readErr, err := in.each(ctx, "report", o.filter.ops, stderr, stderr, nil, func(m *decode.Message) bool {
		rep.Add(m)
		return true
	})
	if err != nil {
		return err
	}

	info := analyse.ReportInfo{File: name, Section: in.c.src.r.Section(), Generator: "pcmk-trace " + version}
	if o.utc {
		info.Location = time.UTC
	}
	if err := writeReport(o.output, stdout, rep, info); err != nil {
		return err
	}
	if in.reportEnd(stderr, readErr) {
		return exitCode{1, nil}
	}
	return nil
}

// writeReport writes the HTML page to the file name, or stdout for "-".
func writeReport(name string, stdout io.Writer, rep *analyse.Report, info analyse.ReportInfo) error {
	if name == "-" {
		bw := bufio.NewWriter(stdout)
		if err := rep.WriteHTML(bw, info); err != nil {
			return fmt.Errorf("report: %w", err)
		}
		return bw.Flush()
	}
	f, err := os.Create(name)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	bw := bufio.NewWriter(f)
	err = rep.WriteHTML(bw, info)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: writing %s: %w", name, err)
	}
	return nil
}

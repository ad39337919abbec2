package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// filterFlags are the message filters every command that reads a capture shares:
// decode, flow and stats select messages the same way.
type filterFlags struct {
	services []string
	ops      []string
	pids     []uint32
	comms    []string
	since    string
	until    string

	sinceRel, untilRel time.Duration // relative bounds, from the capture's first record
}

func (f *filterFlags) flags(fs *pflag.FlagSet) {
	stringsFlag(fs, &f.services, "service", "only this libqb service `NAME` (cib_rw, crmd, attrd, ...)")
	stringsFlag(fs, &f.ops, "op", "only this operation `OP` (cib_query, ping, ...) and its replies")
	pidsFlag(fs, &f.pids, "pid", "only messages written by, or exchanged with, this `PID`")
	stringsFlag(fs, &f.comms, "comm", "only the conversations of processes with this command `NAME`")
	fs.StringVar(&f.since, "since", "", "only messages at or after `TIME` (RFC 3339, or +DURATION after the first message)")
	fs.StringVar(&f.until, "until", "", "only messages before `TIME` (RFC 3339, or +DURATION after the first message)")
}

// apply checks the filters and sets them in filter; the operations are left to an
// opFilter, which sees what the capture holds. cmd names the command in errors.
func (f *filterFlags) apply(cmd string, filter *decode.Filter) error {
	if err := checkServices(cmd, f.services); err != nil {
		return exitCode{2, err}
	}
	filter.Services = f.services
	filter.Comms = f.comms
	filter.PIDs = f.pids
	var err error
	if filter.Since, f.sinceRel, err = parseWhen(f.since); err != nil {
		return exitCode{2, fmt.Errorf("%s: --since: %w", cmd, err)}
	}
	if filter.Until, f.untilRel, err = parseWhen(f.until); err != nil {
		return exitCode{2, fmt.Errorf("%s: --until: %w", cmd, err)}
	}
	return nil
}

// applyRelative sets relative --since and --until, which count from the capture's first record.
func (f *filterFlags) applyRelative(src *peekedSource, filter *decode.Filter) {
	if f.sinceRel == 0 && f.untilRel == 0 {
		return
	}
	if first := src.peek(); first != nil && !first.Time.IsZero() {
		if f.sinceRel != 0 {
			filter.Since = first.Time.Add(f.sinceRel)
		}
		if f.untilRel != 0 {
			filter.Until = first.Time.Add(f.untilRel)
		}
	}
}

// captureFile is an open capture file (or standard input) as a record stream.
type captureFile struct {
	name string
	size int64 // bytes, 0 when unknown (a pipe)
	src  *peekedSource
	f    *os.File
}

// openCapture opens name ("-" is standard input) and reads its section header.
func openCapture(name string) (*captureFile, error) {
	c := &captureFile{name: name}
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			c.size = st.Size()
		}
		c.f, in = f, f
	}
	cr, err := capfile.NewReader(bufio.NewReaderSize(in, 1<<20))
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c.src = &peekedSource{r: cr}
	// The first record comes after every interface description: a merged capture's
	// nodes are all known from here on (nodeLines).
	c.src.peek()
	return c, nil
}

// Close closes the file, if one was opened.
func (c *captureFile) Close() error {
	if c.f == nil {
		return nil
	}
	return c.f.Close()
}

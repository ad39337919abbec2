package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/merge"
)

const mergeExample = `  # one capture per node, recorded at the same time, into one
  pcmk-trace merge -w cluster.pcapng node1.pcapng node2.pcapng node3.pcapng

  # node2's clock is known to run 300 ms ahead: do not estimate it
  pcmk-trace merge -w cluster.pcapng --offset node2=-300ms node1.pcapng node2.pcapng`

// mergeOptions are the flags of pcmk-trace merge.
type mergeOptions struct {
	output  string
	offsets []string
	files   []string
	given   map[string]time.Duration // --offset, by node
}

// mergeFile is one input capture.
type mergeFile struct {
	name    string
	node    string
	section capfile.SectionInfo
	size    int64
}

func parseMerge(args []string, stdout, stderr io.Writer) (*mergeOptions, error) {
	var o mergeOptions
	fs := newFlagSet("merge", "merge -w OUT FILE...", mergeExample, stdout, stderr)
	fs.StringVarP(&o.output, "write", "w", "", "write the merged capture to `FILE` (pcapng)")
	fs.StringArrayVar(&o.offsets, "offset", nil, "add `NODE=DURATION` (e.g. node2=-300ms) to a node's times instead of estimating its clock offset")
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil, nil
		}
		return nil, err
	}
	o.files = fs.Args()
	if len(o.files) == 0 {
		return nil, fs.usageError(errors.New("merge: want the captures to merge"))
	}
	if o.output == "" {
		return nil, fs.usageError(errors.New("merge: want -w FILE"))
	}
	o.given = map[string]time.Duration{}
	for _, s := range o.offsets {
		node, d, ok := strings.Cut(s, "=")
		off, err := time.ParseDuration(strings.TrimPrefix(d, "+"))
		if !ok || node == "" || err != nil {
			return nil, fs.usageError(fmt.Errorf("merge: --offset %q: want NODE=DURATION, e.g. node2=-300ms", s))
		}
		o.given[node] = off
	}
	return &o, nil
}

func runMerge(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseMerge(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	files := make([]mergeFile, len(o.files))
	seen := map[string]string{}
	out, outErr := os.Stat(o.output)
	for i, name := range o.files {
		f := &files[i]
		f.name = name
		if in, err := os.Stat(name); err == nil && outErr == nil && os.SameFile(in, out) {
			return exitCode{2, fmt.Errorf("merge: -w %s is also an input: write elsewhere", o.output)}
		}
		err := withCapture(name, func(r *capfile.Reader, size int64) error {
			if len(r.Interfaces()) > 0 {
				return errors.New("already a merged capture: merge the nodes' own captures")
			}
			f.section, f.size = r.Section(), size
			return nil
		})
		if err != nil {
			return fmt.Errorf("merge: %s: %w", name, err)
		}
		f.node = nodeName(f.section, name)
		if other, dup := seen[f.node]; dup {
			return fmt.Errorf("merge: %s and %s are both captures of node %s", other, name, f.node)
		}
		seen[f.node] = name
	}
	for node := range o.given {
		if _, ok := seen[node]; !ok {
			return exitCode{2, fmt.Errorf("merge: --offset %s: no capture of that node", node)}
		}
	}

	offs, err := mergeOffsets(ctx, files, o.given, stderr)
	if err != nil {
		return err
	}
	return writeMerged(ctx, o, files, offs, stderr)
}

// nodeName names a capture's node: its section's node, its host, or the file's name.
func nodeName(s capfile.SectionInfo, file string) string {
	switch {
	case s.Node != "":
		return s.Node
	case s.Host != "":
		return s.Host
	}
	return strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
}

// withCapture opens a capture file and calls fn with its reader and size.
func withCapture(name string, fn func(r *capfile.Reader, size int64) error) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	r, err := capfile.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return err
	}
	return fn(r, size)
}

// mergeOffsets estimates the clock offset of every node without a given one, and reports
// each on stderr.
func mergeOffsets(ctx context.Context, files []mergeFile, given map[string]time.Duration, stderr io.Writer) ([]merge.Offset, error) {
	offs := make([]merge.Offset, len(files))
	estimate := len(files) > 1 && len(given) < len(files)
	if estimate {
		anchors := make([][]merge.Anchor, len(files))
		for i, f := range files {
			if ctx.Err() != nil {
				return nil, exitCode{1, errors.New("merge: interrupted")}
			}
			err := withCapture(f.name, func(r *capfile.Reader, _ int64) error {
				var err error
				anchors[i], err = merge.ScanAnchors(r)
				return err
			})
			if err != nil {
				return nil, fmt.Errorf("merge: %s: %w", f.name, err)
			}
		}
		offs = merge.EstimateOffsets(anchors)
	}
	for i, f := range files {
		if d, ok := given[f.node]; ok {
			offs[i] = merge.Offset{Offset: d, Known: true}
			fmt.Fprintf(stderr, "merge: %s: clock offset %s (given)\n", f.node, d)
			continue
		}
		switch o := offs[i]; {
		case !estimate || i == 0 && o.Known:
			fmt.Fprintf(stderr, "merge: %s: clock offset 0 (reference)\n", f.node)
		case !o.Known:
			fmt.Fprintf(stderr, "merge: %s: clock offset unknown (no cpg messages shared with the others): 0\n", f.node)
		case o.Error < 0:
			fmt.Fprintf(stderr, "merge: %s: clock offset %s, bounded on one side only (%d cpg messages sent, %d received)\n", f.node, o.Offset, o.Sent, o.Recv)
		default:
			fmt.Fprintf(stderr, "merge: %s: clock offset %s ± %s (%d cpg messages sent, %d received)\n", f.node, o.Offset, o.Error, o.Sent, o.Recv)
		}
	}
	return offs, nil
}

// writeMerged merges the files with their offsets into o.output.
func writeMerged(ctx context.Context, o *mergeOptions, files []mergeFile, offs []merge.Offset, stderr io.Writer) error {
	var opts capfile.WriterOptions
	opts.Section = files[0].section
	s := &opts.Section
	s.Host, s.Node, s.NodeID, s.BootID = "", "", 0, ""
	// The merge is redacted only if every node's capture was, by the same rules.
	for _, f := range files[1:] {
		if f.section.Redacted != s.Redacted {
			fmt.Fprintf(stderr, "merge: warning: %s and %s were not redacted alike (%q, %q): the merged capture is not marked redacted\n",
				files[0].name, f.name, files[0].section.Redacted, f.section.Redacted)
			s.Redacted = ""
			break
		}
	}
	s.CommandLine = commandLine(append([]string{"pcmk-trace", "merge"}, os.Args[2:]...))
	inputs := make([]merge.Input, len(files))
	var total int64
	for i, f := range files {
		r, closer, err := openReader(f.name)
		if err != nil {
			return fmt.Errorf("merge: %s: %w", f.name, err)
		}
		defer closer.Close()
		inputs[i] = merge.Input{Node: f.node, Reader: r, Offset: offs[i].Offset}
		opts.Interfaces = append(opts.Interfaces, capfile.InterfaceInfo{
			Node: f.node, Host: f.section.Host, NodeID: f.section.NodeID, BootID: f.section.BootID,
			Offset: offs[i].Offset, OffsetError: max(offs[i].Error, 0),
		})
		total += f.size
	}
	w, err := capfile.Create(o.output, opts)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	status := newStatus(stderr, 200*time.Millisecond)
	start := time.Now()
	st, err := merge.Merge(w, inputs, func(n int) bool {
		if ctx.Err() != nil {
			return false
		}
		status.set(false, func() string {
			var read int64
			for _, in := range inputs {
				read += in.Reader.InputOffset()
			}
			return readStatus("merge", uint64(n), read, total)
		})
		return true
	})
	status.clear()
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("merge: %w", cerr)
	}
	if err != nil {
		os.Remove(o.output) // a partial merge is no capture to keep
		if errors.Is(err, merge.ErrStopped) {
			return exitCode{1, errors.New("merge: interrupted; nothing written")}
		}
		return err
	}
	el := time.Since(start)
	fmt.Fprintf(stderr, "merge: %d records of %d nodes into %s in %s\n", st.Records, len(files), o.output, el.Round(time.Millisecond))
	for i, n := range st.Damaged {
		if n > 0 {
			fmt.Fprintf(stderr, "merge: %s: %d damaged packets skipped\n", files[i].name, n)
		}
		if st.Truncated[i] {
			fmt.Fprintf(stderr, "merge: %s: cut short (was the recorder killed?); merged up to its last whole block\n", files[i].name)
		}
	}
	return nil
}

// openReader opens a capture file for reading; closing the closer closes the file.
func openReader(name string) (*capfile.Reader, io.Closer, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, err
	}
	r, err := capfile.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return r, f, nil
}

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/capture"
	"github.com/pcmk-trace/pcmk-trace/export"
)

const recordExample = `  # record everything into a file until Ctrl-C
  pcmk-trace record -w cib.pcapng

  # print CIB traffic live for 30 seconds, like tcpdump
  pcmk-trace record --service cib_rw --service cib_ro --duration 30s

  # decode as it is recorded: the capture goes through a pipe
  pcmk-trace record -w - | pcmk-trace decode -`

// recordOptions are the flags of pcmk-trace record.
type recordOptions struct {
	output    string
	pids      []uint32
	comms     []string
	services  []string
	nsOf      []uint32
	snaplen   uint32
	duration  time.Duration
	count     uint64
	libqb     []string
	ringSize  byteSize
	rx        bool
	readyFile string
	noSocket  bool
	redact    bool
	rf        redactFlags
	otlp      string
}

func (o *recordOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "write", "w", "", "write records to `FILE` (pcapng; - for standard output) instead of printing them")
	pidsFlag(fs, &o.pids, "pid", "keep messages written by, or on a connection of, this `PID`")
	stringsFlag(fs, &o.comms, "comm", "keep messages written by, or to, processes of this command `NAME`")
	stringsFlag(fs, &o.services, "service", "keep messages of this libqb service `NAME`: cib_rw, crmd, attrd, ...")
	pidsFlag(fs, &o.nsOf, "ns-of", "keep messages written by processes in the pid namespace of this `PID` (a container, a sandbox)")
	fs.Uint32Var(&o.snaplen, "snaplen", 0, "copy at most `N` bytes of each message (0: whole messages)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after `DURATION` (e.g. 30s)")
	fs.Uint64Var(&o.count, "count", 0, "stop after `N` messages")
	stringsFlag(fs, &o.libqb, "libqb", "probe this libqb `PATH` instead of searching")
	o.ringSize = capture.DefaultRingSize
	fs.Var(&o.ringSize, "ring-size", "BPF ring buffer `SIZE` in bytes, a power of two (K, M, G suffixes)")
	fs.BoolVar(&o.rx, "rx", false, "also record the receive side (more probe hits per message)")
	fs.StringVar(&o.readyFile, "ready-file", "", "create `FILE` once every probe is attached")
	fs.MarkHidden("ready-file")
	fs.StringVar(&o.otlp, "otlp", "", "also send request/reply pairs as spans over OTLP/HTTP to `URL` as they are recorded")
	fs.BoolVar(&o.noSocket, "no-socket", false, "leave out the socket transport (its syscall tracepoints)")
	fs.MarkHidden("no-socket")
	fs.Lookup("ring-size").DefValue = "16M"
	fs.BoolVar(&o.redact, "redact", false, "remove passwords and other secrets from the messages before they are written (see redact -h)")
	o.rf.flags(fs)
}

func (o *recordOptions) config() (capture.Config, error) {
	cfg := capture.Config{
		LibQB:    o.libqb,
		PIDs:     o.pids,
		Comms:    o.comms,
		Services: o.services,
		Snaplen:  o.snaplen,
		RingSize: int(o.ringSize),
		RX:       o.rx,
		NoSocket: o.noSocket,
	}
	for _, p := range o.nsOf {
		ns, err := capture.PIDNamespaceOf(int(p))
		if err != nil {
			return cfg, fmt.Errorf("record: --ns-of: %w", err)
		}
		cfg.PIDNamespaces = append(cfg.PIDNamespaces, ns)
	}
	return cfg, nil
}

// parseRecord parses and checks record's arguments; it returns nil options when -h was shown.
func parseRecord(args []string, stdout, stderr io.Writer) (*recordOptions, error) {
	var o recordOptions
	fs := newFlagSet("record", "record [flags]", recordExample, stdout, stderr)
	o.flags(fs.FlagSet)
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil, nil
		}
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fs.usageError(fmt.Errorf("record: unexpected argument %q", fs.Arg(0)))
	}
	if o.rf.set() {
		o.redact = true // naming what to redact asks for redaction
	}
	if o.otlp != "" {
		if _, err := export.NewOTLP(context.Background(), o.otlp); err != nil {
			return nil, fs.usageError(fmt.Errorf("record: --otlp: %w", err))
		}
	}
	if err := checkServices("record", o.services); err != nil {
		// The kernel filters on any libqb service name, Pacemaker's or not: a warning.
		fmt.Fprintf(stderr, "pcmk-trace: warning: %v; recording it as named\n", err)
	}
	return &o, nil
}

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseRecord(args, stdout, stderr)
	if o == nil || err != nil {
		return err
	}
	if o.output == "-" && isTerminal(stdout) {
		return exitCode{2, errors.New("record: -w -: standard output is a terminal; pipe it into a program or name a file")}
	}
	oneProcessor(o)

	cfg, err := o.config()
	if err != nil {
		return exitCode{2, err}
	}
	relaxTimers(cfg.ReadLatency())
	newLibs := make(newLibraries, 16)
	cfg.OnNewLibrary = newLibs.found
	sockets := make(socketTransports, 1)
	cfg.OnSocketTransport = sockets.found
	t, err := capture.Open(cfg)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "%+v\n", ve)
		}
		return fmt.Errorf("record: %w", err)
	}
	defer t.Close()
	for _, l := range t.Libraries() {
		if l.Err != nil {
			fmt.Fprintf(stderr, "pcmk-trace: record: not probing %s: %v\n", l.Name, l.Err)
		}
	}

	// --duration counts from the moment every probe is attached.
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	r := &recorder{o: o, stdout: stdout, stderr: stderr, t: t, start: time.Now(),
		status: newStatus(stderr, 0), perKey: map[flowKey]*flowCount{}}
	if o.redact {
		if r.redactor, err = o.rf.newRedactor("record"); err != nil {
			return err
		}
	}
	switch o.output {
	case "-":
		if r.w, err = capfile.NewWriter(stdout, r.writerOptions(args)); err != nil {
			return fmt.Errorf("record: %w", err)
		}
	case "":
		r.out = bufio.NewWriter(stdout)
	default:
		if r.w, err = capfile.Create(o.output, r.writerOptions(args)); err != nil {
			return fmt.Errorf("record: %w", err)
		}
	}
	if o.readyFile != "" {
		if err := os.WriteFile(o.readyFile, nil, 0o644); err != nil {
			return fmt.Errorf("record: ready file: %w", err)
		}
	}

	var lx *liveExport
	if o.otlp != "" {
		if lx, err = startLiveExport(ctx, o.otlp, r.start); err != nil {
			return exitCode{2, fmt.Errorf("record: --otlp: %w", err)}
		}
		r.onRecord = lx.record
	}

	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.Background())
	wg.Go(func() { r.flushLoop(bg) })
	wg.Go(func() { r.reportLibraries(bg, newLibs, sockets) })
	if r.status.enabled() {
		wg.Go(func() { r.liveLoop(bg) })
	}
	err = r.loop(ctx, stop)
	stopBG()
	wg.Wait()
	if lx != nil {
		err = errors.Join(err, lx.finish(stderr))
	}
	return r.finish(err)
}

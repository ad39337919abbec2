package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/capture"
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
	pids      []uint
	comms     []string
	services  []string
	nsOf      []uint
	snaplen   uint32
	duration  time.Duration
	count     uint64
	libqb     []string
	ringSize  byteSize
	rx        bool
	readyFile string
	noSocket  bool
}

func (o *recordOptions) flags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.output, "write", "w", "", "write records to `FILE` (pcapng; - for standard output) instead of printing them")
	fs.UintSliceVar(&o.pids, "pid", nil, "keep messages written by, or on a connection of, this `PID` (repeatable)")
	fs.StringSliceVar(&o.comms, "comm", nil, "keep messages written by, or to, processes of this command `NAME` (repeatable)")
	fs.StringSliceVar(&o.services, "service", nil, "keep messages of this libqb `SERVICE`: cib_rw, crmd, attrd, ... (repeatable)")
	fs.UintSliceVar(&o.nsOf, "ns-of", nil, "keep messages written by processes in the pid namespace of this `PID` (a container, a sandbox; repeatable)")
	fs.Uint32Var(&o.snaplen, "snaplen", 0, "copy at most `N` bytes of each message (0: whole messages)")
	fs.DurationVar(&o.duration, "duration", 0, "stop after `D` (e.g. 30s)")
	fs.Uint64Var(&o.count, "count", 0, "stop after `N` messages")
	fs.StringArrayVar(&o.libqb, "libqb", nil, "probe this libqb `PATH` instead of searching (repeatable)")
	o.ringSize = capture.DefaultRingSize
	fs.Var(&o.ringSize, "ring-size", "BPF ring buffer `SIZE` in bytes, a power of two (K, M, G suffixes)")
	fs.BoolVar(&o.rx, "rx", false, "also record the receive side (more probe hits per message)")
	fs.StringVar(&o.readyFile, "ready-file", "", "create `FILE` once every probe is attached")
	fs.MarkHidden("ready-file")
	fs.BoolVar(&o.noSocket, "no-socket", false, "leave out the socket transport (its syscall tracepoints)")
	fs.MarkHidden("no-socket")
	fs.Lookup("pid").DefValue = ""
	fs.Lookup("ns-of").DefValue = ""
	fs.Lookup("ring-size").DefValue = "16M"
}

func (o *recordOptions) config() (capture.Config, error) {
	cfg := capture.Config{
		LibQB:    o.libqb,
		Comms:    o.comms,
		Services: o.services,
		Snaplen:  o.snaplen,
		RingSize: int(o.ringSize),
		RX:       o.rx,
		NoSocket: o.noSocket,
	}
	for _, p := range o.pids {
		cfg.PIDs = append(cfg.PIDs, uint32(p))
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

func runRecord(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o recordOptions
	fs := newFlagSet("record", "record [flags]", recordExample, stderr)
	o.flags(fs)
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelpShown) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return exitCode{2, fmt.Errorf("record: unexpected argument %q", fs.Arg(0))}
	}
	for _, p := range o.pids {
		if p > 1<<32-1 {
			return exitCode{2, fmt.Errorf("record: pid %d out of range", p)}
		}
	}
	if o.output == "-" && isTerminal(stdout) {
		return exitCode{2, errors.New("record: -w -: standard output is a terminal; pipe it into a program or name a file")}
	}

	cfg, err := o.config()
	if err != nil {
		return exitCode{2, err}
	}
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

	r := &recorder{o: &o, stdout: stdout, stderr: stderr, t: t, start: time.Now(),
		perKey: map[flowKey]*flowCount{}}
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

	var wg sync.WaitGroup
	bg, stopBG := context.WithCancel(context.Background())
	wg.Go(func() { r.flushLoop(bg) })
	if isTerminal(stderr) {
		r.live = true
		wg.Go(func() { r.liveLoop(bg) })
	}
	err = r.loop(ctx, stop)
	stopBG()
	wg.Wait()
	return r.finish(err)
}

// recorder is the state of one pcmk-trace record run.
type recorder struct {
	o      *recordOptions
	stdout io.Writer
	stderr io.Writer
	t      *capture.Tracer
	w      *capfile.Writer
	start  time.Time
	live   bool // stderr is a terminal: show live counters
	shown  bool // the live counters are on the terminal's last line (mu)

	mu       sync.Mutex // guards out (printing) against the flush loop
	out      *bufio.Writer
	messages uint64
	bytes    uint64
	perKey   map[flowKey]*flowCount
}

type flowKey struct {
	service string
	channel capfile.Channel
	rx      bool
}

type flowCount struct{ messages, bytes uint64 }

func (r *recorder) loop(ctx context.Context, stop context.CancelFunc) error {
	for {
		rec, err := r.t.Read(ctx)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if r.o.count > 0 && r.messages >= r.o.count && rec.Kind != capfile.KindLoss {
			r.t.Recycle(rec)
			continue // draining after --count: only losses still count
		}
		if rec.Kind == capfile.KindMessage {
			r.messages++
			r.bytes += uint64(len(rec.Data))
			k := flowKey{rec.Service, rec.Channel, rec.Flags&capfile.FlagRX != 0}
			c := r.perKey[k]
			if c == nil {
				c = &flowCount{}
				r.perKey[k] = c
			}
			c.messages++
			c.bytes += uint64(len(rec.Data))
		}
		if r.w != nil {
			if err := r.w.Write(rec); err != nil {
				return err
			}
		} else {
			r.mu.Lock()
			r.clearLive()
			writeLine(r.out, rec)
			r.mu.Unlock()
		}
		if r.o.count > 0 && r.messages >= r.o.count && rec.Kind == capfile.KindMessage {
			stop()
		}
		r.t.Recycle(rec) // written out: its memory serves the next message
	}
}

// flushLoop makes the capture file, or the printed lines, appear as they come.
func (r *recorder) flushLoop(ctx context.Context) {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if r.w != nil {
			r.w.Flush()
		} else {
			r.mu.Lock()
			r.out.Flush()
			r.mu.Unlock()
		}
	}
}

// liveLoop shows the counters on the terminal's last line.
func (r *recorder) liveLoop(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			r.clearLive()
			r.mu.Unlock()
			return
		case <-tick.C:
		}
		s := r.t.Stats()
		r.mu.Lock()
		if r.out != nil {
			r.out.Flush()
		}
		fmt.Fprintf(r.stderr, "\r\033[K%d messages, %s, %d lost", s.Messages, formatBytes(s.Bytes), s.LostTotal())
		r.shown = true
		r.mu.Unlock()
	}
}

// clearLive erases the live counters before a line goes out (r.mu held).
func (r *recorder) clearLive() {
	if r.shown {
		fmt.Fprint(r.stderr, "\r\033[K")
		r.shown = false
	}
}

func (r *recorder) finish(loopErr error) error {
	end := time.Now()
	stats := r.t.Stats()
	var errs []error
	if loopErr != nil {
		errs = append(errs, loopErr)
	}
	if r.w != nil {
		if err := r.w.WriteStats(capfile.Stats{Start: r.start, End: end, Received: r.messages, Dropped: stats.LostTotal()}); err != nil {
			errs = append(errs, err)
		}
		if err := r.w.Close(); err != nil {
			errs = append(errs, err)
		}
	} else {
		r.out.Flush()
	}
	if err := r.t.Close(); err != nil {
		errs = append(errs, err)
	}
	r.summary(stats, end.Sub(r.start))
	if len(errs) > 0 {
		return fmt.Errorf("record: %w", errors.Join(errs...))
	}
	return nil
}

func (r *recorder) summary(s capture.Stats, d time.Duration) {
	w := r.stderr
	fmt.Fprintf(w, "%d messages, %s in %s; %d lost", r.messages, formatBytes(r.bytes), d.Round(time.Millisecond), s.LostTotal())
	switch r.o.output {
	case "":
	case "-":
		fmt.Fprint(w, "; written to standard output")
	default:
		fmt.Fprintf(w, "; written to %s", r.o.output)
	}
	fmt.Fprintln(w)
	keys := make([]flowKey, 0, len(r.perKey))
	for k := range r.perKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.service != b.service {
			return a.service < b.service
		}
		if a.rx != b.rx {
			return !a.rx
		}
		return a.channel < b.channel
	})
	if len(keys) > 0 {
		fmt.Fprintf(w, "  %-16s %-12s %10s %12s\n", "service", "channel", "messages", "bytes")
	}
	for _, k := range keys {
		c := r.perKey[k]
		ch := k.channel.String()
		if k.rx {
			ch += " (rx)"
		}
		fmt.Fprintf(w, "  %-16s %-12s %10d %12d\n", k.service, ch, c.messages, c.bytes)
	}
	causes := make([]capfile.LossCause, 0, len(s.Lost))
	for c := range s.Lost {
		causes = append(causes, c)
	}
	sort.Slice(causes, func(i, j int) bool { return causes[i] < causes[j] })
	for _, c := range causes {
		fmt.Fprintf(w, "  lost: %d (%s)\n", s.Lost[c], lossText(c))
	}
	fmt.Fprintf(w, "  probe hits: %d qb_rb_chunk_commit (%d on other rings), %d socket sends, %d lifecycle; %d messages filtered out",
		s.CommitHits, s.OtherRings, s.SocketHits, s.LifecycleHits, s.Filtered)
	if r.o.rx {
		fmt.Fprintf(w, ", %d receive side", s.RXHits)
	}
	fmt.Fprintln(w)
	if s.Truncated > 0 {
		fmt.Fprintf(w, "  truncated at the copy limit: %d\n", s.Truncated)
	}
}

func lossText(c capfile.LossCause) string {
	switch c {
	case capfile.LossRingFull:
		return "ring buffer full: raise --ring-size"
	case capfile.LossCopyFailed:
		return "could not read the message from the writer's memory"
	case capfile.LossTooLarge:
		return "message in too many pieces"
	case capfile.LossReassembly:
		return "pieces that did not fit a message"
	case capfile.LossUnknown:
		return "probe runs skipped by the kernel: another BPF program was running"
	}
	return c.String()
}

// writerOptions builds the capture file's section header.
func (r *recorder) writerOptions(args []string) capfile.WriterOptions {
	var opts capfile.WriterOptions
	s := &opts.Section
	s.Recorder = "pcmk-trace " + version
	s.Hardware = runtime.GOARCH
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		s.Kernel = unix.ByteSliceToString(u.Sysname[:]) + " " + unix.ByteSliceToString(u.Release[:])
	}
	s.Host, _ = os.Hostname()
	s.CommandLine = commandLine(append([]string{"pcmk-trace", "record"}, args...))
	for _, l := range r.t.Libraries() {
		if l.Err == nil {
			s.LibQB = append(s.LibQB, l.Version+" "+l.Name)
		}
	}
	if v := dpkgVersion("pacemaker"); v != "" {
		s.Pacemaker = append(s.Pacemaker, v)
	}
	return opts
}

// commandLine quotes args the way a shell would need them.
func commandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// dpkgVersion returns the installed version of a Debian package, or "".
// Reading the status file is cheap; asking the daemons is not.
func dpkgVersion(pkg string) string {
	data, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return ""
	}
	for _, para := range bytes.Split(data, []byte("\n\n")) {
		var name, version string
		installed := false
		for _, line := range strings.Split(string(para), "\n") {
			switch {
			case strings.HasPrefix(line, "Package: "):
				name = strings.TrimPrefix(line, "Package: ")
			case strings.HasPrefix(line, "Version: "):
				version = strings.TrimPrefix(line, "Version: ")
			case strings.HasPrefix(line, "Status: "):
				installed = strings.HasSuffix(line, " installed")
			}
		}
		if name == pkg && installed {
			return version
		}
	}
	return ""
}

// writeLine prints one record as one line, like tcpdump.
func writeLine(w *bufio.Writer, rec *capfile.Record) {
	w.WriteString(rec.Time.Format("15:04:05.000000 "))
	switch rec.Kind {
	case capfile.KindLoss:
		fmt.Fprintf(w, "LOST %d messages (%s)\n", rec.Lost, lossText(rec.Cause))
		return
	case capfile.KindConnect, capfile.KindDisconnect:
		what := "connect"
		if rec.Kind == capfile.KindDisconnect {
			what = "disconnect"
		}
		fmt.Fprintf(w, "%s[%s] %s %s %s max %d (%s)\n", rec.Comm, writerID(rec), what, rec.Service, rec.Conn,
			rec.MaxMsgSize, rec.Transport)
		return
	}
	dir := ">"
	if rec.Flags&capfile.FlagRX != 0 {
		dir = "<"
	}
	peer := rec.ServerPID
	if rec.Channel != capfile.ChannelRequest {
		peer = rec.ClientPID
	}
	fmt.Fprintf(w, "%s[%s] %s %d %s %s", rec.Comm, writerID(rec), dir, peer, rec.Service, rec.Channel)
	if rec.Transport == capfile.TransportSocket {
		w.WriteString(" (socket)")
	}
	if len(rec.Data) >= 4 {
		fmt.Fprintf(w, " id %d", int32(binary.LittleEndian.Uint32(rec.Data)))
	}
	fmt.Fprintf(w, " %d bytes", rec.OrigLen)
	if rec.Flags&capfile.FlagTruncated != 0 {
		fmt.Fprintf(w, " (%d captured)", len(rec.Data))
	}
	if root := xmlRoot(rec.Data); root != "" {
		w.WriteString(" " + root)
	}
	w.WriteByte('\n')
}

// writerID is the writer's pid, followed by its pid in its own namespace
// when they differ: peer pids (from the connection name) are in the
// server's namespace.
func writerID(rec *capfile.Record) string {
	id := strconv.FormatUint(uint64(rec.PID), 10)
	if rec.NSPID != 0 && rec.NSPID != rec.PID {
		id += "/" + strconv.FormatUint(uint64(rec.NSPID), 10)
	}
	return id
}

// xmlRoot returns "<name>" when data is a Pacemaker message whose payload
// (after its 40-byte header) starts with an XML element, followed by the
// operation its start tag names (cib_op, st_op, lrmd_op, crm_task or task,
// as decode ranks them), "(bzip2)" when the payload is compressed, or "".
// It looks at the start tag, no further.
func xmlRoot(data []byte) string {
	const hdr = 40
	// The envelope's version byte: offset 36 in 2.1.x-3.0.0, 32 in 3.0.1+.
	if len(data) <= hdr || (data[36] != 1 && data[32] != 1) {
		return ""
	}
	p := data[hdr:]
	if bytes.HasPrefix(p, []byte("BZh")) {
		return "(bzip2)"
	}
	if p[0] != '<' {
		return ""
	}
	end := 1
	for end < len(p) && end < 64 {
		c := p[end]
		if c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n' || c == 0 {
			break
		}
		if c < 0x21 || c > 0x7e {
			return ""
		}
		end++
	}
	if end == 1 || end == 64 {
		return ""
	}
	root := "<" + string(p[1:end]) + ">"
	if op := startTagOp(p[end:min(len(p), 4096)]); op != "" {
		return root + " " + op
	}
	return root
}

// opRank ranks the attributes that name an operation as decode does; lower wins.
var opRank = map[string]int{"cib_op": 1, "st_op": 2, "lrmd_op": 3, "crm_task": 4, "task": 5}

// startTagOp walks the attributes of a start tag (from after its name) and
// returns the operation the best-ranked one names, when it is short and
// printable; it stops at the tag's end or at anything it cannot read.
func startTagOp(tag []byte) string {
	op, rank := "", len(opRank)+1
	for i := 0; ; {
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		j := i
		for j < len(tag) && tag[j] != '=' && tag[j] != '>' && tag[j] != '/' && !isSpace(tag[j]) {
			j++
		}
		name := tag[i:j]
		for j < len(tag) && isSpace(tag[j]) {
			j++
		}
		if len(name) == 0 || j >= len(tag) || tag[j] != '=' {
			return op
		}
		for j++; j < len(tag) && isSpace(tag[j]); j++ {
		}
		if j >= len(tag) || (tag[j] != '"' && tag[j] != '\'') {
			return op
		}
		k := bytes.IndexByte(tag[j+1:], tag[j])
		if k < 0 {
			return op
		}
		value := tag[j+1 : j+1+k]
		if r, ok := opRank[string(name)]; ok && r < rank && printable(value) {
			op, rank = string(value), r
		}
		i = j + 1 + k + 1
	}
}

func printable(v []byte) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// byteSize is a flag value in bytes with an optional K, M or G suffix (powers of 1024).
type byteSize int

func (b *byteSize) String() string { return strconv.Itoa(int(*b)) }
func (b *byteSize) Type() string   { return "size" }

func (b *byteSize) Set(s string) error {
	mult := 1
	t := strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B")
	t = strings.TrimSuffix(t, "I")
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<30)/int64(mult) {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = byteSize(n * int64(mult))
	return nil
}

package capfile

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// WriterOptions configure a [Writer]. The zero value is the options of a
// recorder that knows nothing about its host: a zero field means its
// default.
type WriterOptions struct {
	// LinkType of the interface; zero means LinkTypeUser0. Pick another of
	// LINKTYPE_USER0-15 (147-162) when USER0 is taken by another dissector.
	LinkType layers.LinkType
	// Section is written to the pcapng section header. An empty Recorder,
	// Kernel or Hardware means "pcmk-trace", runtime.GOOS and
	// runtime.GOARCH.
	Section SectionInfo
	// NoPacketComments leaves out the one-line comment for people reading
	// the file in Wireshark that the first packet of each record carries.
	NoPacketComments bool
	// Interfaces, when set, makes a merged capture: one interface per node,
	// in this order, instead of the one interface of a recording. Write
	// puts each record on the interface of its Node.
	Interfaces []InterfaceInfo
}

// The one interface of a capture file.
const (
	interfaceName = "pcmk-ipc"
	interfaceDesc = "libqb IPC messages behind a pcmk-trace pseudo-header v1"
)

// Writer writes records to a capture file. It buffers blocks; [Writer.Flush]
// writes them out, after which the file ends on a record boundary and can be
// read as it is. A recorder calls Flush periodically (every 200 ms or so),
// so a killed recorder loses little.
//
// A Writer is safe for concurrent use, so a timer may call Flush while
// another goroutine writes.
type Writer struct {
	mu      sync.Mutex
	ng      *pcapgo.NgWriter
	out     *bufio.Writer // ng's buffer too (see NewWriter), to write in large pieces
	file    *os.File      // closed by Close when Create opened it
	fileOut fileOut       // what Create writes the file through
	opts    WriterOptions
	pkt     []byte // a packet's pseudo-header, HeaderLen bytes
	blk     []byte // the packet's pcapng block being built
	line    []byte // comment being built
	err     error  // first write error; later calls return it
	closed  bool

	ifIndex map[string]uint32 // interface of each node, in a merged capture
}

// errClosed is returned by a Writer used after Close; errors.Is(err,
// os.ErrClosed) holds for it.
var errClosed = fmt.Errorf("capfile: writer closed: %w", os.ErrClosed)

// NewWriter writes the section header and the interface description to w
// and returns a Writer for the records. Close flushes it but leaves w open.
func NewWriter(w io.Writer, opts WriterOptions) (*Writer, error) {
	if opts.LinkType == 0 {
		opts.LinkType = LinkTypeUser0
	}
	s := &opts.Section
	if s.Recorder == "" {
		s.Recorder = "pcmk-trace"
	}
	if s.Kernel == "" {
		s.Kernel = runtime.GOOS
	}
	if s.Hardware == "" {
		s.Hardware = runtime.GOARCH
	}
	if lt := opts.LinkType; lt < linkTypeUserFirst || lt > linkTypeUserLast {
		return nil, fmt.Errorf("capfile: link type %d is not one of LINKTYPE_USER0-15 (%d-%d)", lt, linkTypeUserFirst, linkTypeUserLast)
	}
	if err := opts.Section.check(); err != nil {
		return nil, fmt.Errorf("capfile: %w", err)
	}
	// pcapgo's writer adopts out as its own buffer (bufio.NewWriter does so
	// with a large enough one), so the blocks it writes and the packets
	// written straight to out (appendEPB) keep their order.
	out := bufio.NewWriterSize(w, 256<<10)
	first := pcapgo.NgInterface{
		Name:                interfaceName,
		Description:         interfaceDesc,
		LinkType:            opts.LinkType,
		SnapLength:          MaxPacketLen,
		TimestampResolution: 9,
	}
	if len(opts.Interfaces) > 0 {
		first = opts.Interfaces[0].ngInterface(&opts)
	}
	ng, err := pcapgo.NewNgWriterInterface(out, first, pcapgo.NgWriterOptions{SectionInfo: pcapgo.NgSectionInfo{
		Hardware:    s.Hardware,
		OS:          s.Kernel,
		Application: s.Recorder,
		Comment:     s.comment(),
	}})
	if err != nil {
		return nil, fmt.Errorf("write capture header: %w", err)
	}
	cw := &Writer{
		ng:   ng,
		out:  out,
		opts: opts,
		pkt:  make([]byte, HeaderLen),
	}
	if len(opts.Interfaces) > 0 {
		if cw.ifIndex, err = addInterfaces(ng, &opts); err != nil {
			return nil, err
		}
	}
	return cw, nil
}

// Create creates or truncates the file at path with mode 0600, since
// captures hold cluster configuration and secrets, and returns a Writer to
// it. Close flushes the Writer and closes the file.
func Create(path string, opts WriterOptions) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("create capture file: %w", err)
	}
	// An existing file keeps its mode through O_TRUNC; narrow it.
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, fmt.Errorf("create capture file: %w", err)
		}
	}
	out := newFileOut(f)
	w, err := NewWriter(out, opts)
	if err != nil {
		f.Close()
		return nil, err
	}
	w.file, w.fileOut = f, out
	return w, nil
}

// fileOut is what Create writes a file through; finish runs before the
// file is closed.
type fileOut interface {
	Write(b []byte) (int, error)
	finish() error
}

// Write writes one record. A record whose pseudo-header and data exceed
// [MaxPacketLen] becomes several packets, as FORMAT.md describes. Write sets
// FlagTruncated when Data is shorter than OrigLen, and ignores rec.Packet
// and FlagMore and FlagCont. It fails on a record that breaks the format's
// limits: Data longer than OrigLen, OrigLen above [MaxMessageLen], or a
// string too long for its field. A zero Time is written as timestamp 0.
func (w *Writer) Write(rec *Record) error {
	if rec.OrigLen > MaxMessageLen {
		return fmt.Errorf("capfile: record seq %d: orig_len %d exceeds the %d-byte limit", rec.Seq, rec.OrigLen, MaxMessageLen)
	}
	if len(rec.Data) > int(rec.OrigLen) {
		return fmt.Errorf("capfile: record seq %d has %d data bytes, more than orig_len %d", rec.Seq, len(rec.Data), rec.OrigLen)
	}
	if err := checkStrings(rec); err != nil {
		return fmt.Errorf("capfile: record seq %d: %w", rec.Seq, err)
	}

	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	if w.err != nil {
		return w.err
	}
	if err := w.write(rec); err != nil {
		w.err = fmt.Errorf("write capture: %w", err)
		return w.err
	}
	return nil
}

func (w *Writer) write(rec *Record) error {
	flags := rec.Flags &^ (FlagMore | FlagCont)
	if len(rec.Data) < int(rec.OrigLen) {
		flags |= FlagTruncated
	}
	ts := rec.Time
	if ts.IsZero() {
		ts = time.Unix(0, 0)
	}
	var direction uint32
	switch {
	case rec.Flags&FlagRX != 0, rec.Channel == ChannelResponse, rec.Channel == ChannelEvent:
		direction = epbInbound
	case rec.Channel == ChannelRequest:
		direction = epbOutbound
	}
	var ifc uint32
	if w.ifIndex != nil {
		i, ok := w.ifIndex[rec.Node]
		if !ok {
			return fmt.Errorf("record seq %d: node %q has no interface", rec.Seq, rec.Node)
		}
		ifc = i
	}
	var comment []byte
	npkt := max(1, (len(rec.Data)+maxChunk-1)/maxChunk)
	if !w.opts.NoPacketComments {
		comment = w.comment(rec, npkt)
	}

	for off := 0; ; {
		end := min(off+maxChunk, len(rec.Data))
		f := flags
		if off > 0 {
			f |= FlagCont
		}
		if end < len(rec.Data) {
			f |= FlagMore
		}
		putHeader(w.pkt, rec, f, uint32(off))
		w.blk = appendEPB(w.blk[:0], ifc, ts.UnixNano(), w.pkt, rec.Data[off:end], direction, comment)
		if _, err := w.out.Write(w.blk); err != nil {
			return err
		}
		comment = nil
		if off = end; off >= len(rec.Data) {
			return nil
		}
	}
}

// WriteStats writes the recording's counters, normally once, just before
// Close.
func (w *Writer) WriteStats(s Stats) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	if w.err != nil {
		return w.err
	}
	last := s.End
	if last.IsZero() {
		last = time.Now()
	}
	err := w.ng.WriteInterfaceStats(0, pcapgo.NgInterfaceStatistics{
		LastUpdate:      last,
		StartTime:       s.Start,
		EndTime:         s.End,
		PacketsReceived: s.Received,
		PacketsDropped:  s.Dropped,
	})
	if err != nil {
		w.err = fmt.Errorf("write capture statistics: %w", err)
	}
	return w.err
}

// Flush writes the buffered blocks to the underlying writer.
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	return w.flush()
}

func (w *Writer) flush() error {
	if w.err != nil {
		return w.err
	}
	// ng writes into out (see NewWriter): one flush serves both.
	if err := w.out.Flush(); err != nil {
		w.err = fmt.Errorf("flush capture: %w", err)
	}
	return w.err
}

// Close flushes the Writer and, when [Create] opened the file, closes it.
// It returns the first error the Writer met. Later calls return an error.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return errClosed
	}
	w.closed = true
	err := w.flush()
	if w.fileOut != nil {
		if ferr := w.fileOut.finish(); ferr != nil && err == nil {
			err = fmt.Errorf("close capture file: %w", ferr)
		}
	}
	if w.file != nil {
		if cerr := w.file.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close capture file: %w", cerr)
		}
	}
	return err
}

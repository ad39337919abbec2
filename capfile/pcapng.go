package capfile

import (
	"encoding/binary"
	"fmt"
	"io"
	"math/bits"
	"strings"
	"time"
)

// pcapng block types and constants this reader handles. Other blocks (name
// resolution, decryption secrets, custom) are skipped.
const (
	blockSHB = 0x0A0D0D0A // section header, the same in both byte orders
	blockIDB = 1          // interface description
	blockPB  = 2          // packet (obsolete)
	blockSPB = 3          // simple packet
	blockISB = 5          // interface statistics
	blockEPB = 6          // enhanced packet

	byteOrderMagic = 0x1A2B3C4D

	// maxBlock bounds the blocks buffered whole: the largest message with
	// its pseudo-header, and room for options.
	maxBlock = HeaderLen + MaxMessageLen + 1<<16

	// LINKTYPE_USER0 to LINKTYPE_USER15: a writer may pick any of them.
	linkTypeUserFirst = 147
	linkTypeUserLast  = 162
)

// Option codes used here (pcapng section 3.5 and the block sections).
const (
	optEnd        = 0
	optComment    = 1
	optHardware   = 2 // SHB
	optOS         = 3 // SHB
	optUserAppl   = 4 // SHB
	optIfName     = 2 // IDB
	optTSResol    = 9 // IDB
	optTSOffset   = 14
	optStartTime  = 2 // ISB
	optEndTime    = 3
	optIfRecv     = 4
	optIfDrop     = 5
	pcapMagicUS   = 0xa1b2c3d4
	pcapMagicNS   = 0xa1b23c4d
	pcapMagicUSBE = 0xd4c3b2a1
	pcapMagicNSBE = 0x4d3cb2a1
)

// iface is what the reader keeps of an interface description block.
type iface struct {
	linkType uint16
	snaplen  uint32
	res      uint8 // if_tsresol: power of ten, or of two when the top bit is set
	tsoff    int64 // if_tsoffset, seconds
	bad      string
	info     InterfaceInfo // a merged capture's node; Node "" otherwise
}

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// time converts a packet timestamp in the interface's units. Zero stays the
// zero time: simple packet blocks carry none, and Writer writes a zero Time
// as zero.
func (f *iface) time(ts uint64) time.Time {
	if ts == 0 && f.tsoff == 0 {
		return time.Time{}
	}
	var sec, ns uint64
	e := uint(f.res & 0x7f)
	switch {
	case f.res == 9:
		sec, ns = ts/1e9, ts%1e9
	case f.res&0x80 != 0:
		sec = ts >> e
		// frac < 2^e, so frac*1e9 / 2^e fits and Div64 cannot panic.
		hi, lo := bits.Mul64(ts&(1<<e-1), 1e9)
		ns, _ = bits.Div64(hi, lo, 1<<e)
	case e < 9:
		sec, ns = ts/pow10[e], ts%pow10[e]*pow10[9-e]
	default:
		sec, ns = ts/pow10[e], ts%pow10[e]/pow10[e-9]
	}
	return time.Unix(int64(sec)+f.tsoff, int64(ns))
}

func (r *Reader) u16(b []byte) uint16 {
	if r.bigEndian {
		return binary.BigEndian.Uint16(b)
	}
	return binary.LittleEndian.Uint16(b)
}

func (r *Reader) u32(b []byte) uint32 {
	if r.bigEndian {
		return binary.BigEndian.Uint32(b)
	}
	return binary.LittleEndian.Uint32(b)
}

func (r *Reader) u64(b []byte) uint64 {
	if r.bigEndian {
		return binary.BigEndian.Uint64(b)
	}
	return binary.LittleEndian.Uint64(b)
}

// ts reads a pcapng timestamp: high 32 bits first, in the section's order.
func (r *Reader) ts(b []byte) uint64 {
	return uint64(r.u32(b))<<32 | uint64(r.u32(b[4:]))
}

// checkStart recognises the input before the first block is read.
func (r *Reader) checkStart() error {
	b, err := r.src.fill(4)
	if err != nil {
		if len(b) == 0 && err == io.EOF {
			return fmt.Errorf("%w at byte 0: the file is empty", ErrTruncated)
		}
		return r.readErr(err, 0, 4)
	}
	switch m := binary.BigEndian.Uint32(b); {
	case m == blockSHB:
		return nil
	case m == pcapMagicUS || m == pcapMagicNS || m == pcapMagicUSBE || m == pcapMagicNSBE:
		// pcmk-trace writes pcapng; a capture converted to pcap (editcap
		// -F pcap) lost its section metadata and maybe its nanoseconds.
		return fmt.Errorf("capfile: classic pcap file, not pcapng: convert it back with editcap -F pcapng, or use the original capture")
	case b[0] == 0x1f && b[1] == 0x8b:
		return fmt.Errorf("capfile: gzip-compressed file: decompress it first")
	default:
		return fmt.Errorf("capfile: not a pcapng file: starts with % x", b)
	}
}

// readBlock reads one block. A packet block is parsed, left unconsumed and
// returned as r.pend with packet true; other blocks are consumed.
func (r *Reader) readBlock() (packet bool, err error) {
	off := r.src.offset()
	b, err := r.src.fill(8)
	if err != nil {
		if len(b) == 0 && err == io.EOF {
			return false, io.EOF
		}
		return false, r.readErr(err, off, 8)
	}
	typ := r.u32(b)
	if typ == blockSHB {
		if b, err = r.src.fill(12); err != nil {
			return false, r.readErr(err, off, 12)
		}
		switch binary.LittleEndian.Uint32(b[8:]) {
		case byteOrderMagic:
			r.bigEndian = false
		case bits.ReverseBytes32(byteOrderMagic):
			r.bigEndian = true
		default:
			return false, r.fatal(off, "section header with byte-order magic %#x", binary.LittleEndian.Uint32(b[8:]))
		}
	}
	length := r.u32(b[4:])
	if typ == 0 && length == 0 {
		// A crash can leave the end of a file filled with zeros.
		return false, fmt.Errorf("%w at byte %d: zero bytes from there on", ErrTruncated, off)
	}
	if length < 12 || length%4 != 0 {
		return false, r.fatal(off, "block type %#x has length %d", typ, length)
	}
	switch typ {
	case blockSHB, blockIDB, blockISB, blockEPB, blockSPB, blockPB:
	default:
		return false, r.skipBlock(off, typ, length)
	}
	if length > maxBlock {
		return false, r.fatal(off, "block type %#x has length %d, more than the %d this reader accepts", typ, length, maxBlock)
	}
	if b, err = r.src.fill(int(length)); err != nil {
		return false, r.readErr(err, off, int64(length))
	}
	if tail := r.u32(b[length-4:]); tail != length {
		return false, r.fatal(off, "block type %#x has length %d at its start and %d at its end", typ, length, tail)
	}
	body := b[8 : length-4]
	switch typ {
	case blockSHB:
		r.src.consume(int(length))
		return false, r.readSection(off, body)
	case blockIDB:
		r.src.consume(int(length))
		return false, r.readInterface(off, body)
	case blockISB:
		r.src.consume(int(length))
		r.readStats(body)
		return false, nil
	}
	r.npkt++
	p := &r.pend
	*p = pending{num: r.npkt, off: off, size: int(length)}
	if msg := r.parsePacket(typ, body, p); msg != "" {
		r.src.consume(int(length))
		return false, &FormatError{Packet: p.num, Offset: off, Msg: msg}
	}
	r.hasPend = true
	return true, nil
}

// skipBlock drops a block this reader does not parse, checking its length.
func (r *Reader) skipBlock(off int64, typ, length uint32) error {
	if n, err := r.src.discard(int64(length) - 4); err != nil {
		return r.readErr(err, off, int64(length))
	} else if n != int64(length)-4 {
		return r.readErr(io.ErrUnexpectedEOF, off, int64(length))
	}
	b, err := r.src.fill(4)
	if err != nil {
		return r.readErr(err, off, int64(length))
	}
	if tail := r.u32(b); tail != length {
		return r.fatal(off, "block type %#x has length %d at its start and %d at its end", typ, length, tail)
	}
	r.src.consume(4)
	return nil
}

// parsePacket fills p from a packet block's body and checks its
// pseudo-header. A non-empty result says what is wrong with the packet.
func (r *Reader) parsePacket(typ uint32, body []byte, p *pending) string {
	var (
		ifc    int
		ts     uint64
		caplen uint64
		data   []byte
	)
	switch typ {
	case blockEPB, blockPB:
		if len(body) < 20 {
			return "packet block too short"
		}
		if typ == blockEPB {
			ifc = int(r.u32(body))
		} else {
			ifc = int(r.u16(body))
		}
		ts = r.ts(body[4:])
		caplen = uint64(r.u32(body[12:]))
		data = body[20:]
	case blockSPB:
		if len(body) < 4 {
			return "simple packet block too short"
		}
		caplen = uint64(r.u32(body))
		data = body[4:]
		if len(r.ifaces) > 0 && r.ifaces[0].snaplen != 0 {
			caplen = min(caplen, uint64(r.ifaces[0].snaplen))
		}
		caplen = min(caplen, uint64(len(data)))
	}
	if ifc >= len(r.ifaces) {
		return fmt.Sprintf("interface %d is not described in this section", ifc)
	}
	f := &r.ifaces[ifc]
	if caplen > uint64(len(data)) {
		return fmt.Sprintf("captured length %d exceeds the %d bytes of its block", caplen, len(data))
	}
	if f.linkType < linkTypeUserFirst || f.linkType > linkTypeUserLast {
		return fmt.Sprintf("interface %d has link type %d, not one of pcmk-trace's (LINKTYPE_USER0-15, %d-%d)",
			ifc, f.linkType, linkTypeUserFirst, linkTypeUserLast)
	}
	if f.bad != "" {
		return fmt.Sprintf("interface %d: %s", ifc, f.bad)
	}
	p.data = data[:caplen]
	fr, msg := parseFraming(p.data)
	if msg != "" {
		return msg
	}
	p.f = fr
	p.time = f.time(ts)
	p.node = f.info.Node
	if p.node == "" {
		p.node = r.section.Node
	}
	return ""
}

// readSection starts a new section: interfaces are numbered afresh.
func (r *Reader) readSection(off int64, body []byte) error {
	if len(body) < 16 {
		return r.fatal(off, "section header block too short")
	}
	if major, minor := r.u16(body[4:]), r.u16(body[6:]); major != 1 {
		return r.fatal(off, "pcapng version %d.%d, this reader knows 1.x", major, minor)
	}
	var s SectionInfo
	var comments []string
	r.options(body[16:], func(code uint16, v []byte) {
		switch code {
		case optComment:
			comments = append(comments, string(v))
		case optHardware:
			s.Hardware = string(v)
		case optOS:
			s.Kernel = string(v)
		case optUserAppl:
			s.Recorder = string(v)
		}
	})
	s.parseComment(strings.Join(comments, "\n"))
	r.section = s
	r.ifaces = r.ifaces[:0]
	return nil
}

func (r *Reader) readInterface(off int64, body []byte) error {
	if len(body) < 8 {
		return r.fatal(off, "interface description block too short")
	}
	f := iface{linkType: r.u16(body), snaplen: r.u32(body[4:]), res: 6}
	var name, comment string
	r.options(body[8:], func(code uint16, v []byte) {
		switch {
		case code == optIfName:
			name = string(v)
		case code == optComment:
			comment = string(v)
		case code == optTSResol && len(v) >= 1:
			f.res = v[0]
		case code == optTSOffset && len(v) >= 8:
			f.tsoff = int64(r.u64(v))
		}
	})
	if e := f.res & 0x7f; f.res&0x80 == 0 && e >= uint8(len(pow10)) || e > 63 {
		f.bad = fmt.Sprintf("timestamp resolution %#x is out of range", f.res)
	}
	if name != "" && name != interfaceName {
		f.info.Node = name
		f.info.parseComment(comment)
	}
	r.ifaces = append(r.ifaces, f)
	return nil
}

func (r *Reader) readStats(body []byte) {
	if len(body) < 12 {
		return
	}
	ifc := int(r.u32(body))
	if ifc >= len(r.ifaces) {
		return
	}
	f := &r.ifaces[ifc]
	s := Stats{}
	r.options(body[12:], func(code uint16, v []byte) {
		if len(v) < 8 {
			return
		}
		switch code {
		case optStartTime:
			s.Start = f.time(r.ts(v))
		case optEndTime:
			s.End = f.time(r.ts(v))
		case optIfRecv:
			s.Received = r.u64(v)
		case optIfDrop:
			s.Dropped = r.u64(v)
		}
	})
	r.stats, r.hasStats = s, true
}

// options calls fn for each option in b, stopping at the end-of-options
// option or at the first one that runs past b.
func (r *Reader) options(b []byte, fn func(code uint16, v []byte)) {
	for len(b) >= 4 {
		code, n := r.u16(b), int(r.u16(b[2:]))
		if code == optEnd {
			return
		}
		b = b[4:]
		if n > len(b) {
			return
		}
		fn(code, b[:n])
		b = b[min((n+3)&^3, len(b)):]
	}
}

// readErr describes an input error while reading the block at off, which
// needs n bytes. End of input there means the file was cut short.
func (r *Reader) readErr(err error, off int64, n int64) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return fmt.Errorf("%w at byte %d: the block at byte %d needs %d bytes%s",
			ErrTruncated, r.src.fileEnd(), off, n, r.after())
	}
	return fmt.Errorf("read capture at byte %d: %w", r.src.fileEnd(), err)
}

// fatal reports broken pcapng framing, after which no block can be found.
func (r *Reader) fatal(off int64, format string, args ...any) error {
	return fmt.Errorf("capfile: block at byte %d%s: %s", off, r.after(), fmt.Sprintf(format, args...))
}

// after names the last packet read, for errors outside packets.
func (r *Reader) after() string {
	if r.npkt == 0 {
		return ""
	}
	return fmt.Sprintf(" (after packet %d)", r.npkt)
}

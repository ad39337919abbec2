package capfile

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Reader reads the records of a capture file in order.
//
// It parses pcapng itself rather than through gopacket's pcapgo: it must
// know the file offset of every block to name it in errors, and it reads a
// block in place from its buffer. Only the message being reassembled is
// held in memory, besides one block.
//
// Record times are in the local time zone. A Reader is not safe for
// concurrent use.
type Reader struct {
	src       *source
	bigEndian bool // byte order of the current section
	section   SectionInfo
	ifaces    []iface
	stats     Stats
	hasStats  bool
	npkt      int   // packets read so far
	err       error // final error, returned by every later call

	pend    pending // packet read but not yet used
	hasPend bool

	// After a broken message has been reported, its remaining
	// continuation packets are dropped without a second error.
	skipping bool
	skipSeq  uint64

	strs pcmk.Interner
}

// pending is a packet block parsed in place in the source buffer.
type pending struct {
	num  int
	off  int64 // file offset of the block
	size int   // block length
	time time.Time
	data []byte // packet data: pseudo-header and libqb bytes
	f    framing
	node string // the node of the packet's interface or section
}

// NewReader reads the section header and the first interface description
// of a capture file from r. It fails when r holds something else: a classic
// pcap file, a pcapng file whose first interface has a link type other than
// LINKTYPE_USER0 to LINKTYPE_USER15, or no pcapng at all. A file cut short
// before its first interface gives an error wrapping [ErrTruncated].
func NewReader(r io.Reader) (*Reader, error) {
	rd := &Reader{src: newSource(r)}
	if err := rd.checkStart(); err != nil {
		return nil, err
	}
	for len(rd.ifaces) == 0 {
		off := rd.src.offset()
		packet, err := rd.readBlock()
		var fe *FormatError
		if packet || errors.As(err, &fe) {
			return nil, rd.fatal(off, "packet before any interface description block")
		}
		if err == io.EOF {
			err = fmt.Errorf("%w at byte %d: no interface description block", ErrTruncated, off)
		}
		if err != nil {
			return nil, err
		}
	}
	if lt := rd.ifaces[0].linkType; lt < linkTypeUserFirst || lt > linkTypeUserLast {
		return nil, fmt.Errorf("capfile: not a pcmk-trace capture: link type %d, want LINKTYPE_USER0-15 (%d-%d)",
			lt, linkTypeUserFirst, linkTypeUserLast)
	}
	return rd, nil
}

// Section returns the section header of the section being read: the
// recording's host, versions and command line.
func (r *Reader) Section() SectionInfo {
	s := r.section
	s.LibQB = slices.Clone(s.LibQB)
	s.Pacemaker = slices.Clone(s.Pacemaker)
	return s
}

// Stats returns the last interface statistics read, which the recorder
// writes at the end of the file, and whether there were any.
func (r *Reader) Stats() (Stats, bool) { return r.stats, r.hasStats }

// InputOffset returns the number of input bytes consumed so far, for
// progress reports.
func (r *Reader) InputOffset() int64 { return r.src.offset() }

// Next reads the next record, joining a message's continuation packets
// into one Record. It returns io.EOF at the end of the file.
//
// A *[FormatError] concerns one message only; the following call goes on
// with the next one. Every other error is final and returned again by
// later calls: an error wrapping [ErrTruncated] when the file ends inside a
// block or a message, an error naming the block offset when the pcapng
// framing is broken, or the underlying reader's error.
//
// The record is new, or one given back with [Recycle].
func (r *Reader) Next() (*Record, error) {
	rec, _ := recycled.Get().(*Record)
	if rec == nil {
		rec = new(Record)
	}
	if err := r.ReadInto(rec); err != nil {
		recycled.Put(rec)
		return nil, err
	}
	return rec, nil
}

// recycled holds the records given back by Recycle.
var recycled sync.Pool

// maxRecycledData is the largest Data array Recycle keeps with its record:
// a rare multi-megabyte message need not stay in memory for the small ones.
const maxRecycledData = 256 << 10

// Recycle gives back a record that [Reader.Next] returned, for a later Next
// (of any Reader, in any goroutine) to fill again, once neither it nor its
// Data is used any more: a decoding loop that recycles its records
// allocates none for them. Recycling is optional; records that are not
// recycled are garbage collected.
func Recycle(rec *Record) {
	if cap(rec.Data) > maxRecycledData {
		rec.Data = nil
	}
	recycled.Put(rec)
}

// ReadInto is [Reader.Next] into a caller's Record: every field is
// overwritten, and rec.Data's array is reused when it is large enough, so
// a loop that keeps no records allocates nothing per record. After an
// error rec holds no meaningful record.
func (r *Reader) ReadInto(rec *Record) error {
	if r.err != nil {
		return r.err
	}
	err := r.read(rec)
	if _, ok := err.(*FormatError); err != nil && !ok {
		r.err = err
	}
	return err
}

func (r *Reader) read(rec *Record) error {
	var (
		inMsg bool
		start int64  // file offset of the message's first packet
		next  uint64 // message offset the next continuation must have
		last  int    // the message's last packet so far
	)
	for {
		p, err := r.peek()
		if err != nil {
			if !inMsg {
				return err
			}
			if fe, ok := err.(*FormatError); ok {
				r.skipping, r.skipSeq = true, rec.Seq
				fe.Msg += fmt.Sprintf("; message seq %d from packet %d (byte %d) dropped after %d of %d bytes",
					rec.Seq, rec.Packet, start, next, rec.OrigLen)
				return fe
			}
			if err == io.EOF {
				return fmt.Errorf("%w at byte %d: message seq %d from packet %d (byte %d) ends after %d of %d bytes in packet %d",
					ErrTruncated, r.src.fileEnd(), rec.Seq, rec.Packet, start, next, rec.OrigLen, last)
			}
			return err
		}
		f := &p.f
		n := uint64(len(p.data) - f.hdrLen)

		if inMsg {
			if f.flags&FlagCont == 0 || f.seq != rec.Seq || uint64(f.offset) != next || f.origLen != rec.OrigLen {
				// p is left for the next call: it may start a message.
				r.skipping, r.skipSeq = true, rec.Seq
				return &FormatError{Packet: rec.Packet, Offset: start, Msg: fmt.Sprintf(
					"message seq %d (packets %d-%d) lacks its continuation at byte %d of %d: packet %d at byte %d %s",
					rec.Seq, rec.Packet, last, next, rec.OrigLen, p.num, p.off, describe(f))}
			}
			rec.Data = append(rec.Data, p.data[f.hdrLen:]...)
			next += n
			last = p.num
			r.take()
			if f.flags&FlagMore == 0 {
				return checkLength(rec, start)
			}
			continue
		}

		if f.flags&FlagCont != 0 {
			r.take()
			if r.skipping && f.seq == r.skipSeq {
				continue
			}
			r.skipping, r.skipSeq = true, f.seq
			return &FormatError{Packet: p.num, Offset: p.off, Msg: fmt.Sprintf(
				"continuation of message seq %d at byte %d of %d, without the packets before it",
				f.seq, f.offset, f.origLen)}
		}
		r.skipping = false
		if f.offset != 0 {
			r.take()
			return &FormatError{Packet: p.num, Offset: p.off, Msg: fmt.Sprintf(
				"message seq %d starts at byte %d of its data, not 0, and is not a continuation", f.seq, f.offset)}
		}
		decodeIdentity(rec, p.data, *f, &r.strs)
		rec.Time = p.time
		rec.Packet = p.num
		rec.Node = p.node
		rec.Data = append(rec.Data[:0], p.data[f.hdrLen:]...)
		start, next, last = p.off, n, p.num
		r.take()
		if f.flags&FlagMore == 0 {
			return checkLength(rec, start)
		}
		inMsg = true
	}
}

// peek returns the next packet without consuming it.
func (r *Reader) peek() (*pending, error) {
	for !r.hasPend {
		if _, err := r.readBlock(); err != nil {
			return nil, err
		}
	}
	return &r.pend, nil
}

// take consumes the pending packet. Its data is invalid afterwards.
func (r *Reader) take() {
	r.src.consume(r.pend.size)
	r.hasPend = false
	r.pend.data = nil
}

// checkLength checks a complete message against its orig_len.
func checkLength(rec *Record, start int64) error {
	if rec.Flags&FlagTruncated == 0 && uint64(len(rec.Data)) != uint64(rec.OrigLen) {
		return &FormatError{Packet: rec.Packet, Offset: start, Msg: fmt.Sprintf(
			"message seq %d has %d bytes, but orig_len is %d and it is not marked truncated",
			rec.Seq, len(rec.Data), rec.OrigLen)}
	}
	return nil
}

// describe says what a packet that broke a message is.
func describe(f *framing) string {
	if f.flags&FlagCont == 0 {
		return fmt.Sprintf("starts message seq %d", f.seq)
	}
	return fmt.Sprintf("continues message seq %d at byte %d of %d", f.seq, f.offset, f.origLen)
}

package capfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// sample returns a message record with every identity field set.
func sample(seq uint64, data []byte) *Record {
	return &Record{
		Kind:      KindMessage,
		Time:      time.Unix(1700000000, int64(seq)*1000+123).UTC(),
		Channel:   ChannelRequest,
		Transport: TransportSHM,
		Hook:      HookRBCommit,
		Seq:       seq,
		OrigLen:   uint32(len(data)),
		PID:       1234,
		TID:       1235,
		NSPID:     34,
		UID:       189,
		PIDNS:     4026531836,
		MntNS:     4026531841,
		ClientPID: 1234,
		ServerPID: 567,
		Comm:      "cibadmin",
		Service:   "cib_rw",
		Conn:      "qb-567-1234-12-AbCdEf",
		Data:      data,
	}
}

// payload returns n bytes that differ from packet to packet.
func payload(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7) + seed
	}
	return b
}

// writeFile writes recs with the default options and returns the file.
func writeFile(t testing.TB, recs ...*Record) []byte {
	t.Helper()
	return writeFileOpts(t, WriterOptions{}, recs...)
}

// readAll reads records until an error other than a *FormatError and
// returns them, the FormatErrors met on the way, and the final error.
func readAll(t testing.TB, file []byte) (recs []*Record, ferrs []*FormatError, err error) {
	t.Helper()
	r, err := NewReader(bytes.NewReader(file))
	if err != nil {
		return nil, nil, err
	}
	for range 100000 {
		rec, err := r.Next()
		var fe *FormatError
		if errors.As(err, &fe) {
			ferrs = append(ferrs, fe)
			continue
		}
		if err != nil {
			return recs, ferrs, err
		}
		recs = append(recs, rec)
	}
	t.Fatal("reader does not end")
	return
}

// sameRecord reports how got differs from want, ignoring Packet and the
// time zone.
func sameRecord(got, want *Record) string {
	if !got.Time.Equal(want.Time) {
		return fmt.Sprintf("time %v, want %v", got.Time, want.Time)
	}
	if !bytes.Equal(got.Data, want.Data) {
		return fmt.Sprintf("data differs: %d bytes, want %d", len(got.Data), len(want.Data))
	}
	g, w := *got, *want
	g.Time, w.Time = time.Time{}, time.Time{}
	g.Data, w.Data = nil, nil
	g.Packet, w.Packet = 0, 0
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("\n got %+v\nwant %+v", g, w)
	}
	return ""
}

// builder writes pcapng blocks by hand, in either byte order, so tests can
// make files no correct writer would.
type builder struct {
	bytes.Buffer
	order binary.ByteOrder
}

func newBuilder(big bool) *builder {
	b := &builder{order: binary.LittleEndian}
	if big {
		b.order = binary.BigEndian
	}
	return b
}

// block writes a block with the given body, padded to 4 bytes.
func (b *builder) block(typ uint32, body []byte) *builder {
	n := uint32(12 + (len(body)+3)&^3)
	b.u32(typ)
	b.u32(n)
	b.Write(body)
	b.Write(make([]byte, (4-len(body)%4)%4))
	b.u32(n)
	return b
}

func (b *builder) u32(v uint32) {
	var x [4]byte
	b.order.PutUint32(x[:], v)
	b.Write(x[:])
}

// opt encodes one option.
func (b *builder) opt(code uint16, v []byte) []byte {
	o := make([]byte, 4, 4+len(v)+3)
	b.order.PutUint16(o, code)
	b.order.PutUint16(o[2:], uint16(len(v)))
	o = append(o, v...)
	return append(o, make([]byte, (4-len(v)%4)%4)...)
}

func (b *builder) shb(major uint16, opts ...[]byte) *builder {
	body := make([]byte, 16)
	b.order.PutUint32(body, byteOrderMagic)
	b.order.PutUint16(body[4:], major)
	binary.LittleEndian.PutUint64(body[8:], ^uint64(0))
	for _, o := range opts {
		body = append(body, o...)
	}
	return b.block(blockSHB, body)
}

func (b *builder) idb(linkType uint16, opts ...[]byte) *builder {
	body := make([]byte, 8)
	b.order.PutUint16(body, linkType)
	b.order.PutUint32(body[4:], MaxPacketLen)
	for _, o := range opts {
		body = append(body, o...)
	}
	return b.block(blockIDB, body)
}

func (b *builder) epb(ifc uint32, ts uint64, data []byte) *builder {
	body := make([]byte, 20, 20+len(data))
	b.order.PutUint32(body, ifc)
	b.order.PutUint32(body[4:], uint32(ts>>32))
	b.order.PutUint32(body[8:], uint32(ts))
	b.order.PutUint32(body[12:], uint32(len(data)))
	b.order.PutUint32(body[16:], uint32(len(data)))
	return b.block(blockEPB, append(body, data...))
}

// start writes a section header and one USER0 interface with ns stamps.
func (b *builder) start() *builder {
	return b.shb(1).idb(147, b.opt(optTSResol, []byte{9}))
}

// packet returns the packet bytes Writer would write for one piece of rec.
func packet(rec *Record, flags Flags, off uint32, data []byte) []byte {
	p := make([]byte, HeaderLen, HeaderLen+len(data))
	putHeader(p, rec, flags, off)
	return append(p, data...)
}

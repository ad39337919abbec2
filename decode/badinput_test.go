package decode

import (
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// msgRec wraps libqb message bytes in a record, as the recorder would.
func msgRec(service string, ch capfile.Channel, data []byte) *capfile.Record {
	return &capfile.Record{Kind: capfile.KindMessage, Time: genEpoch, Channel: ch, Seq: 7, Packet: 9,
		OrigLen: uint32(len(data)), PID: 1234, Comm: "cibadmin", Service: service,
		ClientPID: 1234, ServerPID: 567, Conn: "qb-567-1234-21-abcdef", Data: data}
}

func put32(b []byte, off int, v uint32) []byte {
	binary.LittleEndian.PutUint32(b[off:], v)
	return b
}

func plainA(text string, flags Flags) []byte {
	return envelopeA(1, append([]byte(text), 0), uint32(len(text)+1), flags)
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const registerXML = `<cib_command t="cib" cib_op="register" cib_clientname="cibadmin" cib_callopt="4096"/>`

// TestBadInput feeds one crafted record per case. The message it yields
// must carry the expected error (a *FormatError at the given offset, -1
// when no byte is to blame) or none, and decoding must go on: a good
// message follows every case and must decode.
func TestBadInput(t *testing.T) {
	reply := loadFixture(t, fixtureReply)
	bomb := readTestdata(t, fixtureBomb)
	noNUL := readTestdata(t, fixtureNoNUL)
	for _, tc := range []struct {
		desc      string
		rec       func() *capfile.Record
		dialect   Dialect
		err       error
		offset    int
		op        string // "" to not check
		truncated bool
	}{
		{desc: "libqb header cut short", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, make([]byte, 10))
		}, err: ErrShortHeader, offset: 10},
		{desc: "short header in a truncated record is shown as truncated", rec: func() *capfile.Record {
			r := msgRec("cib_rw", capfile.ChannelRequest, make([]byte, 10))
			r.OrigLen, r.Flags = 126, capfile.FlagTruncated
			return r
		}, truncated: true},
		{desc: "libqb size larger than the message", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, put32(plainA(registerXML, 0), 8, 500))
		}, err: ErrSize, offset: 8},
		{desc: "message shorter than the envelope", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, put32(make([]byte, 30), 8, 30))
		}, err: ErrShortHeader, offset: 30},
		{desc: "record holds more bytes than it says were sent", rec: func() *capfile.Record {
			r := msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0))
			r.OrigLen = 100
			return r
		}, err: ErrSize, offset: 100},
		{desc: "dialect A size_uncompressed disagrees with the libqb size", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, put32(plainA(registerXML, 0), 24, 20))
		}, err: ErrLength, offset: 24},
		{desc: "dialect A size_compressed without the compressed flag", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, put32(plainA(registerXML, 0), 28, 5))
		}, err: ErrLength, offset: 28},
		{desc: "dialect A version 2, dialect forced", dialect: DialectA, rec: func() *capfile.Record {
			b := plainA(registerXML, 0)
			b[36] = 2
			return msgRec("cib_rw", capfile.ChannelRequest, b)
		}, err: ErrVersion, offset: 36},
		{desc: "unrecognised envelope, dialect detected", rec: func() *capfile.Record {
			b := plainA(registerXML, 0)
			b[36] = 2
			return msgRec("cib_rw", capfile.ChannelRequest, b)
		}, err: ErrEnvelope, offset: 24},
		{desc: "dialect A bytes read as dialect B", dialect: DialectB, rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0))
		}, err: ErrVersion, offset: 32},
		{desc: "dialect B size disagrees with the libqb size", rec: func() *capfile.Record {
			b := envelopeB(1, append([]byte(registerXML), 0), 0, 0)
			return msgRec("cib_rw", capfile.ChannelRequest, put32(b, 24, 7))
		}, err: ErrLength, offset: 24},
		{desc: "payload without its NUL", rec: func() *capfile.Record {
			b := plainA(registerXML, 0)
			b[len(b)-1] = '\n'
			return msgRec("cib_rw", capfile.ChannelRequest, b)
		}, err: ErrNUL, offset: 40 + len(registerXML)},
		{desc: "empty payload", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, envelopeA(1, nil, 0, 0))
		}, err: ErrLength, offset: 24},
		{desc: "compressed payload that is not bzip2", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, []byte("not bzip2 at all"), 100, pcmk.FlagCompressed))
		}, err: ErrBzip2, offset: 40},
		{desc: "bzip2 stream cut short", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, reply.blob[:len(reply.blob)/2], uint32(len(reply.text)+1), pcmk.FlagCompressed))
		}, err: ErrBzip2, offset: 40},
		{desc: "bzip2 bomb: 100 MB of output declared as 4 KiB", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, bomb, 4096, pcmk.FlagCompressed))
		}, err: ErrLength, offset: 40},
		{desc: "declared size over the global maximum", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, bomb, 1<<30, pcmk.FlagCompressed))
		}, err: ErrTooLarge, offset: 40},
		{desc: "bzip2 output shorter than declared", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, reply.blob, uint32(len(reply.text)+100), pcmk.FlagCompressed))
		}, err: ErrLength, offset: 40},
		{desc: "decompressed text without its NUL", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelResponse, envelopeA(1, noNUL, 4, pcmk.FlagCompressed))
		}, err: ErrNUL, offset: 40},
		{desc: "XML element not closed", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(`<cib_command t="cib" cib_op="cib_query"><x/>`, 0))
		}, err: ErrXML, offset: 40 + 44, op: "cib_query"},
		{desc: "XML end tag does not match", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(`<a cib_op="x"><b></a>`, 0))
		}, err: ErrXML, offset: 40 + 17, op: "x"},
		{desc: "XML '<' in an attribute value", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(`<a b="x<y"/>`, 0))
		}, err: ErrXML, offset: 40 + 7},
		{desc: "XML content after the root element", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(`<a/><b/>`, 0))
		}, err: ErrXML, offset: 40 + 4},
		{desc: "XML with invalid UTF-8", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA("<a b=\"\xff\"/>", 0))
		}, err: ErrXML, offset: 40 + 6},
		{desc: "XML with an unknown entity", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(`<a b="&nbsp;"/>`, 0))
		}, err: ErrXML, offset: 40 + 6},
		{desc: "XML with a NUL inside the text", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA("<a>\x00</a>", 0))
		}, err: ErrXML, offset: 40 + 3},
		{desc: "empty XML text", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA("", 0))
		}, err: ErrXML, offset: 40},
		{desc: "truncated plain message still names its operation", rec: func() *capfile.Record {
			b := plainA(registerXML, pcmk.FlagClientResponse)
			r := msgRec("cib_rw", capfile.ChannelRequest, b[:80])
			r.OrigLen, r.Flags = uint32(len(b)), capfile.FlagTruncated
			return r
		}, op: "register", truncated: true},
		{desc: "truncated compressed message", rec: func() *capfile.Record {
			b := envelopeA(1, reply.blob, uint32(len(reply.text)+1), pcmk.FlagCompressed)
			r := msgRec("cib_rw", capfile.ChannelResponse, b[:1000])
			r.OrigLen, r.Flags = uint32(len(b)), capfile.FlagTruncated
			return r
		}, truncated: true},
		{desc: "corosync body is not parsed beyond libqb", rec: func() *capfile.Record {
			b := put32(put32(make([]byte, 40), 8, 40), 36, 77)
			return msgRec("cmap", capfile.ChannelRequest, b)
		}},
		{desc: "unknown service carrying a Pacemaker envelope", rec: func() *capfile.Record {
			return msgRec("pacemaker-remote", capfile.ChannelRequest, plainA(registerXML, 0))
		}, op: "register"},
		{desc: "unknown service with other bytes stays at the libqb layer", rec: func() *capfile.Record {
			return msgRec("mystery", capfile.ChannelRequest, put32(make([]byte, 64), 8, 64))
		}},
		{desc: "libqb disconnect request", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, put32(put32(make([]byte, 16), 0, 0xfffffffd), 8, 16))
		}, op: "qb_disconnect"},
		{desc: "unknown flag bits", rec: func() *capfile.Record {
			return msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, pcmk.FlagClientResponse|0x400000))
		}, op: "register"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			good := msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0))
			good.Seq = 8
			msgs, st := decodeAll(t, []*capfile.Record{tc.rec(), good}, Options{Dialect: tc.dialect})
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want 2", len(msgs))
			}
			m := msgs[0]
			if tc.err == nil {
				if m.Err != nil {
					t.Fatalf("error %v", m.Err)
				}
			} else {
				var fe *FormatError
				if !errors.As(m.Err, &fe) || !errors.Is(m.Err, tc.err) {
					t.Fatalf("error %v, want a FormatError wrapping %v", m.Err, tc.err)
				}
				if fe.Offset != tc.offset || fe.Seq != 7 || fe.Packet != 9 {
					t.Errorf("error at seq %d packet %d offset %d, want seq 7 packet 9 offset %d: %v", fe.Seq, fe.Packet, fe.Offset, tc.offset, fe)
				}
				if st.Errors != 1 && tc.dialect == DialectAuto {
					t.Errorf("Stats.Errors %d", st.Errors)
				}
			}
			if tc.op != "" && m.Op != tc.op {
				t.Errorf("op %q, want %q", m.Op, tc.op)
			}
			if m.Truncated != tc.truncated {
				t.Errorf("truncated %v", m.Truncated)
			}
			if msgs[1].Err != nil && tc.dialect == DialectAuto {
				t.Errorf("next message: %v", msgs[1].Err)
			}
		})
	}
}

func TestUnknownFlagsShownInHex(t *testing.T) {
	msgs, _ := decodeAll(t, []*capfile.Record{msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, pcmk.FlagClientResponse|0x400000))}, Options{})
	if got := strings.Join(msgs[0].Flags.Names(msgs[0].Dialect), ","); got != "client_response,0x400000" {
		t.Errorf("flags %s", got)
	}
}

func TestStrictXML(t *testing.T) {
	// A control character is well-formed to the fast scan, not to encoding/xml.
	rec := msgRec("cib_rw", capfile.ChannelRequest, plainA("<a>\x01</a>", 0))
	for _, tc := range []struct {
		desc   string
		strict bool
		fails  bool
	}{
		{"built-in check only", false, false},
		{"with StrictXML", true, true},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			msgs, _ := decodeAll(t, []*capfile.Record{rec}, Options{StrictXML: tc.strict})
			if got := errors.Is(msgs[0].Err, ErrXML); got != tc.fails {
				t.Errorf("ErrXML %v, want %v (%v)", got, tc.fails, msgs[0].Err)
			}
		})
	}
}

func TestDialectStaysPerConnection(t *testing.T) {
	b := msgRec("cib_rw", capfile.ChannelRequest, envelopeB(1, append([]byte(registerXML), 0), pcmk.FlagClientResponse, 0))
	a := msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0))
	other := msgRec("cib_rw", capfile.ChannelRequest, plainA(registerXML, 0))
	other.Conn = "qb-567-1235-22-ghijkl"
	msgs, _ := decodeAll(t, []*capfile.Record{b, a, other}, Options{})
	if msgs[0].Dialect != DialectB || msgs[0].Err != nil {
		t.Errorf("first message: dialect %v, %v", msgs[0].Dialect, msgs[0].Err)
	}
	if !errors.Is(msgs[1].Err, ErrVersion) {
		t.Errorf("dialect A bytes on a dialect B connection: %v", msgs[1].Err)
	}
	if msgs[2].Dialect != DialectA || msgs[2].Err != nil {
		t.Errorf("other connection: dialect %v, %v", msgs[2].Dialect, msgs[2].Err)
	}
}

func TestLossAndLifecycleRecords(t *testing.T) {
	recs := []*capfile.Record{
		{Kind: capfile.KindConnect, Seq: 1, Service: "cib_rw", Conn: "c1", MaxMsgSize: 524288},
		{Kind: capfile.KindLoss, Seq: 2, Lost: 12, Cause: capfile.LossRingFull},
		{Kind: capfile.KindDisconnect, Seq: 3, Service: "cib_rw", Conn: "c1"},
		{Kind: 99, Seq: 4},
	}
	for _, tc := range []struct {
		desc      string
		lifecycle bool
		kinds     []Kind
	}{
		{"lifecycle records hidden by default", false, []Kind{KindLoss, KindInvalid}},
		{"lifecycle records shown", true, []Kind{KindConnect, KindLoss, KindDisconnect, KindInvalid}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			msgs, st := decodeAll(t, recs, Options{Lifecycle: tc.lifecycle})
			var kinds []Kind
			for _, m := range msgs {
				kinds = append(kinds, m.Kind)
			}
			if len(kinds) != len(tc.kinds) {
				t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
			}
			for i := range kinds {
				if kinds[i] != tc.kinds[i] {
					t.Fatalf("kinds %v, want %v", kinds, tc.kinds)
				}
			}
			if st.Lost != 12 || st.Errors != 1 {
				t.Errorf("stats %+v", st)
			}
			if m := msgs[len(msgs)-1]; !errors.Is(m.Err, ErrRecord) {
				t.Errorf("unknown kind: %v", m.Err)
			}
		})
	}
}

// errSource returns its records, then err; a *capfile.FormatError first
// when damaged is set.
type errSource struct {
	recs    []*capfile.Record
	damaged bool
	err     error
}

func (s *errSource) Next() (*capfile.Record, error) {
	if s.damaged {
		s.damaged = false
		return nil, &capfile.FormatError{Packet: 5, Offset: 1234, Msg: "bad pseudo-header"}
	}
	if len(s.recs) == 0 {
		return nil, s.err
	}
	r := s.recs[0]
	s.recs = s.recs[1:]
	return r, nil
}

func TestSourceErrors(t *testing.T) {
	g := newGen(t)
	c := g.connect("cib_rw", 1, "cibadmin", 2, "pacemaker-based", DialectB)
	c.raw(capfile.ChannelRequest, envelopeB(1, splitParts(sized(2, 200000))[0], pcmk.FlagMultipart, 0))
	fatal := errors.New("disk on fire")
	for _, tc := range []struct {
		desc string
		err  error
	}{
		{"capture ends", io.EOF},
		{"source fails", fatal},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			r := NewReader(&errSource{recs: g.recs, damaged: true, err: tc.err}, Options{})
			m, err := r.Next()
			if err != nil || m.Kind != KindInvalid || m.Packet != 5 {
				t.Fatalf("first: %+v, %v; want the damaged packet", m, err)
			}
			m, err = r.Next()
			if err != nil || !errors.Is(m.Err, ErrMultipart) {
				t.Fatalf("second: %v, %v; want the incomplete multipart message", m, err)
			}
			for range 2 {
				if _, err = r.Next(); err != tc.err {
					t.Fatalf("then %v, want %v", err, tc.err)
				}
			}
			if st := r.Stats(); st.Errors != 2 || st.Unanswered != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestFormatErrorText(t *testing.T) {
	for _, tc := range []struct {
		desc string
		err  *FormatError
		want string
	}{
		{"seq and offset", &FormatError{Seq: 7, Offset: 24, Err: fail(ErrLength, "size 3")},
			"seq 7 offset 24: pcmk: payload length disagrees with envelope: size 3"},
		{"packet number", &FormatError{Seq: 7, Packet: 9, Offset: -1, Err: ErrXML},
			"packet 9 (seq 7): decode: malformed XML"},
		{"multipart", &FormatError{Seq: 7, Offset: 34, Conn: "qb-1-2-3-x", QBID: 5, Err: ErrMultipart},
			"seq 7 offset 34 conn qb-1-2-3-x qb id 5: pcmk: broken multipart sequence"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

package pcmk

import (
	"errors"
	"testing"
)

func TestDetectDialect(t *testing.T) {
	text := append([]byte(registerXML), 0)
	for _, tc := range []struct {
		desc string
		msg  []byte
		want Dialect
	}{
		{"dialect A request (docs/protocol.md 6.2 example)", envelopeA(1, text, uint32(len(text)), FlagClientResponse), DialectA},
		{"dialect A event", envelopeA(225, text, uint32(len(text)), FlagServerEvent|FlagServerFree), DialectA},
		{"dialect A compressed", envelopeA(1, []byte("BZh41AY&SY"), 580788, FlagCompressed), DialectA},
		{"dialect A flags low byte 1 looks like a B version byte", envelopeA(1, []byte("BZh4"), 9999, FlagCompressed|FlagServerFree), DialectA},
		{"dialect B single", envelopeB(1, text, FlagClientResponse, 0), DialectB},
		{"dialect B final part", envelopeB(1, text, mpEnd, 2), DialectB},
		{"dialect B with an unknown flag", envelopeB(1, text, 0x01000000, 0), DialectAuto},
		{"dialect A with an unknown flag", envelopeA(1, text, uint32(len(text)), 0x01000000), DialectAuto},
		{"dialect A size_uncompressed wrong", put32(envelopeA(1, text, uint32(len(text)), 0), 24, 3), DialectAuto},
		{"zeros", put32(make([]byte, 64), 8, 64), DialectAuto},
		{"shorter than an envelope", make([]byte, 39), DialectAuto},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := DetectDialect(tc.msg, int32(len(tc.msg))); got != tc.want {
				t.Errorf("DetectDialect = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestParseEnvelope(t *testing.T) {
	text := append([]byte(registerXML), 0)
	for _, tc := range []struct {
		desc    string
		msg     []byte
		dialect Dialect
		want    Envelope
	}{
		{"dialect A plain", envelopeA(1, text, uint32(len(text)), FlagClientResponse), DialectAuto,
			Envelope{Dialect: DialectA, Flags: FlagClientResponse, Version: 1, SizeUncompressed: uint32(len(text))}},
		{"dialect A compressed", envelopeA(1, []byte("BZh4xyz"), 580788, FlagCompressed), DialectAuto,
			Envelope{Dialect: DialectA, Flags: FlagCompressed, Version: 1, SizeUncompressed: 580788, SizeCompressed: 7}},
		{"dialect B middle part", envelopeB(9, text, mp, 3), DialectAuto,
			Envelope{Dialect: DialectB, Flags: mp, Version: 1, PartSize: uint32(len(text)), PartID: 3}},
		{"dialect A forced", envelopeA(1, text, uint32(len(text)), 0), DialectA,
			Envelope{Dialect: DialectA, Version: 1, SizeUncompressed: uint32(len(text))}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, _, err := ParseEnvelope(tc.msg, int32(len(tc.msg)), tc.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// Errors name the field at fault by its offset.
func TestParseEnvelopeErrors(t *testing.T) {
	text := append([]byte(registerXML), 0)
	plainA := envelopeA(1, text, uint32(len(text)), 0)
	single := envelopeB(1, text, 0, 0)
	for _, tc := range []struct {
		desc    string
		msg     []byte
		size    int32 // 0: len(msg)
		dialect Dialect
		err     error
		offset  int
	}{
		{"short", plainA[:30], 0, DialectAuto, ErrShortHeader, 30},
		{"neither dialect", put32(make([]byte, 48), 8, 48), 0, DialectAuto, ErrEnvelope, 24},
		{"libqb size under the envelope", plainA, 30, DialectA, ErrSize, 8},
		{"dialect A version", plainA, 0, DialectB, ErrVersion, 32},
		{"dialect B version", single, 0, DialectA, ErrVersion, 36},
		{"size_uncompressed", put32(plainA, 24, 5), 0, DialectA, ErrLength, 24},
		{"size_compressed without the flag", put32(plainA, 28, 5), 0, DialectA, ErrLength, 28},
		{"size_compressed", envelopeA(1, []byte("BZh4"), 100, FlagCompressed), 50, DialectA, ErrLength, 28},
		{"dialect B size", put32(single, 24, 5), 0, DialectB, ErrLength, 24},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			size := tc.size
			if size == 0 {
				size = int32(len(tc.msg))
			}
			_, off, err := ParseEnvelope(tc.msg, size, tc.dialect)
			if !errors.Is(err, tc.err) || off != tc.offset {
				t.Errorf("offset %d, %v; want offset %d, %v", off, err, tc.offset, tc.err)
			}
		})
	}
}

func TestParseHeader(t *testing.T) {
	text := append([]byte(registerXML), 0)
	msg := put32(envelopeB(7, text, FlagClientResponse, 0), 16, 0xfffffff0)
	h, _, err := ParseHeader(msg, DialectAuto)
	if err != nil || h.ID != 7 || h.Size != int32(len(msg)) || h.Error != -16 || h.Dialect != DialectB || h.PartSize != uint32(len(text)) {
		t.Errorf("ParseHeader = %+v, %v", h, err)
	}
	if _, off, err := ParseHeader(msg[:len(msg)-1], DialectAuto); !errors.Is(err, ErrSize) || off != 8 {
		t.Errorf("message shorter than its libqb size: offset %d, %v", off, err)
	}
	if _, off, err := ParseHeader(msg[:39], DialectAuto); !errors.Is(err, ErrShortHeader) || off != 39 {
		t.Errorf("short message: offset %d, %v", off, err)
	}
}

func TestPlainText(t *testing.T) {
	text := append([]byte(registerXML), 0)
	for _, tc := range []struct {
		desc    string
		env     Envelope
		payload []byte
		err     error
		offset  int
	}{
		{"dialect A", Envelope{Dialect: DialectA, SizeUncompressed: uint32(len(text))}, text, nil, 0},
		{"dialect B", Envelope{Dialect: DialectB, PartSize: uint32(len(text))}, text, nil, 0},
		{"empty", Envelope{Dialect: DialectB}, nil, ErrLength, 24},
		{"length", Envelope{Dialect: DialectB, PartSize: 3}, text, ErrLength, 24},
		{"no NUL", Envelope{Dialect: DialectA, SizeUncompressed: 4}, []byte("<a/>"), ErrNUL, 43},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, off, err := tc.env.PlainText(tc.payload)
			if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || off != tc.offset {
				t.Fatalf("offset %d, %v; want offset %d, %v", off, err, tc.offset, tc.err)
			}
			if err == nil && string(got) != registerXML {
				t.Errorf("text %q", got)
			}
		})
	}
}

func TestParseQBHeader(t *testing.T) {
	msg := put32(put32(put32(make([]byte, 24), 0, 0xfffffffe), 8, 24), 16, 5)
	if h, ok := ParseQBHeader(msg, RequestHeaderLen); !ok || h != (QBHeader{ID: MsgNewEventSock, Size: 24}) {
		t.Errorf("request header %+v, %v", h, ok)
	}
	if h, ok := ParseQBHeader(msg, ResponseHeaderLen); !ok || h != (QBHeader{ID: MsgNewEventSock, Size: 24, Error: 5}) {
		t.Errorf("response header %+v, %v", h, ok)
	}
	if _, ok := ParseQBHeader(msg[:20], ResponseHeaderLen); ok {
		t.Error("short response header read")
	}
	for id, want := range map[int32]string{-1: "qb_authenticate", -2: "qb_new_event_sock", -3: "qb_disconnect", -9: "qb_control"} {
		if got := ControlOp(id); got != want {
			t.Errorf("ControlOp(%d) = %s, want %s", id, got, want)
		}
	}
}

func TestParseDialect(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Dialect
		ok   bool
	}{
		{"auto", DialectAuto, true}, {"", DialectAuto, true}, {"A", DialectA, true},
		{"b", DialectB, true}, {"C", DialectAuto, false},
	} {
		t.Run("parse "+tc.in, func(t *testing.T) {
			got, err := ParseDialect(tc.in)
			if got != tc.want || (err == nil) != tc.ok {
				t.Errorf("ParseDialect(%q) = %v, %v", tc.in, got, err)
			}
		})
	}
}

func TestDialectForVersion(t *testing.T) {
	for v, want := range map[string]Dialect{
		"2.1.5": DialectA, "2.1.4": DialectA, "3.0.0": DialectA, "Pacemaker 3.0.0": DialectA,
		"3.0.1": DialectB, "3.0.3-2": DialectB, "Pacemaker-3.1.0": DialectB, "4.0": DialectB,
	} {
		if got, err := DialectForVersion(v); got != want || err != nil {
			t.Errorf("DialectForVersion(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	if _, err := DialectForVersion("x"); err == nil {
		t.Error("DialectForVersion(x) succeeded")
	}
}

func TestFlagNames(t *testing.T) {
	for _, tc := range []struct {
		desc    string
		flags   Flags
		dialect Dialect
		want    string
	}{
		{"none", 0, DialectA, "0"},
		{"register reply", 0x20200, DialectA, "client_response|server_free"},
		{"async reply event", 0x30000, DialectA, "server_event|server_free"},
		{"compressed event", 0x30001, DialectA, "compressed|server_event|server_free"},
		{"last part", 0x180000, DialectB, "multipart|multipart_end"},
		{"bit 20 in dialect A", 0x100000, DialectA, "server_info"},
		{"bit 21 unknown in dialect B", 0x200200, DialectB, "client_response|0x200000"},
		{"unknown bits together", 0x0c000001, DialectA, "compressed|0xc000000"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := tc.flags.Format(tc.dialect); got != tc.want {
				t.Errorf("Format = %s, want %s", got, tc.want)
			}
		})
	}
	if n := Flags(0).Names(DialectA); n == nil || len(n) != 0 {
		t.Errorf("no flags: %#v, want an empty slice", n)
	}
}

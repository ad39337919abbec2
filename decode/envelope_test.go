package decode

import (
	"testing"
)

func TestDetectDialect(t *testing.T) {
	text := append([]byte(registerXML), 0)
	for _, tc := range []struct {
		desc string
		msg  []byte
		want Dialect
	}{
		{"dialect A request (protocol.md 6.2 example)", envelopeA(1, text, uint32(len(text)), FlagClientResponse), DialectA},
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
			size := int32(len(tc.msg))
			if got := DetectDialect(tc.msg, size); got != tc.want {
				t.Errorf("detectDialect = %q, want %q", got, tc.want)
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
		want    envelope
	}{
		{"dialect A plain", envelopeA(1, text, uint32(len(text)), FlagClientResponse), DialectAuto,
			envelope{dialect: DialectA, flags: FlagClientResponse, version: 1, sizeUncompressed: uint32(len(text))}},
		{"dialect A compressed", envelopeA(1, []byte("BZh4xyz"), 580788, FlagCompressed), DialectAuto,
			envelope{dialect: DialectA, flags: FlagCompressed, version: 1, sizeUncompressed: 580788, sizeCompressed: 7}},
		{"dialect B middle part", envelopeB(9, text, mp, 3), DialectAuto,
			envelope{dialect: DialectB, flags: mp, version: 1, size: uint32(len(text)), partID: 3}},
		{"dialect A forced", envelopeA(1, text, uint32(len(text)), 0), DialectA,
			envelope{dialect: DialectA, version: 1, sizeUncompressed: uint32(len(text))}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			got, _, err := parseEnvelope(tc.msg, int32(len(tc.msg)), tc.dialect)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %+v\nwant %+v", got, tc.want)
			}
		})
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
}

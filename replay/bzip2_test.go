package replay

import (
	"bytes"
	"compress/bzip2"
	"io"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// TestCompressBzip2 checks the compressor dialect-A requests larger than the connection's
// maximum go through: Go's reader and qbipc's Assembler read back what it wrote.
func TestCompressBzip2(t *testing.T) {
	xml := `<cib_command t="cib" cib_op="cib_replace">` + strings.Repeat(`<nvpair id="x" name="y" value="z"/>`, 20000) + `</cib_command>`
	z, err := compressBzip2([]byte(xml))
	if err != nil {
		t.Fatal(err)
	}
	back, err := io.ReadAll(bzip2.NewReader(bytes.NewReader(z)))
	if err != nil || string(back) != xml {
		t.Fatalf("round trip: %v, %d bytes back of %d", err, len(back), len(xml))
	}
	enc := qbipc.Encoder{Dialect: qbipc.DialectA, MaxSize: 128 * 1024, Compress: compressBzip2}
	msgs, err := enc.Encode(7, xml, qbipc.FlagClientResponse)
	if err != nil {
		t.Fatal(err)
	}
	h, _, err := qbipc.ParseHeader(qbipc.DialectA, msgs[0])
	if err != nil || len(msgs) != 1 || h.Flags&qbipc.FlagCompressed == 0 || len(msgs[0]) > 128*1024 {
		t.Fatalf("%d messages, header %+v, %v", len(msgs), h, err)
	}
	var a qbipc.Assembler
	m, err := a.Add(msgs[0])
	if err != nil || string(m.XML) != xml {
		t.Fatalf("assembled: %v", err)
	}
}

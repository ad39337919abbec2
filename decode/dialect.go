package decode

import "github.com/pcmk-trace/pcmk-trace/pcmk"

// Dialect is the layout of the 40-byte Pacemaker envelope (docs/protocol.md 6):
// [pcmk.Dialect].
type Dialect = pcmk.Dialect

const (
	// DialectAuto, in [Options], detects the dialect per connection from
	// the bytes. In a [Message] it means the message carried no Pacemaker
	// envelope (a corosync service, a libqb control message, or bytes that
	// could not be recognised).
	DialectAuto = pcmk.DialectAuto
	// DialectA is Pacemaker 2.1.4, 2.1.5 and 3.0.0: size_uncompressed,
	// size_compressed, flags, version; large messages are bzip2-compressed.
	DialectA = pcmk.DialectA
	// DialectB is Pacemaker 3.0.1 and later: size, flags, version, part_id;
	// large messages are split into parts.
	DialectB = pcmk.DialectB
)

// ParseDialect is [pcmk.ParseDialect]: "auto" (or ""), "A" or "B", in
// either case.
func ParseDialect(s string) (Dialect, error) { return pcmk.ParseDialect(s) }

// DetectDialect is [pcmk.DetectDialect]: the byte test of docs/protocol.md 6.4
// on the first 40 bytes of a message whose libqb size is qbSize.
func DetectDialect(b []byte, qbSize int32) Dialect { return pcmk.DetectDialect(b, qbSize) }

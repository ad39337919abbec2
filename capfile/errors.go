package capfile

import (
	"errors"
	"fmt"
)

// ErrTruncated is wrapped by the error [Reader.Next] returns when the file
// ends inside a block or inside a message split over several packets, which
// is how a file looks when its recorder was killed. The wrapping error names
// the byte offset where the data ends. It is final, like io.EOF.
var ErrTruncated = errors.New("capfile: file truncated")

// FormatError reports damage confined to one message: a packet that is not
// ours or whose pseudo-header is wrong, a continuation packet without its
// start, a message whose continuation is missing. The pcapng framing around
// it is intact, so after [Reader.Next] returns a FormatError the next call
// goes on with the following message.
type FormatError struct {
	Packet int   // the packet where the damage begins, counted from 1 like Wireshark's frame.number
	Offset int64 // byte offset in the file of that packet's block
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Packet > 0 {
		return fmt.Sprintf("capfile: packet %d at byte %d: %s", e.Packet, e.Offset, e.Msg)
	}
	return fmt.Sprintf("capfile: at byte %d: %s", e.Offset, e.Msg)
}

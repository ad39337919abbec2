package capture

import (
	"bytes"
	"unsafe"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// interner hands out one string per distinct comm, service or connection
// name, read from the event's NUL-terminated C arrays: a message would
// otherwise allocate three.
type interner struct{ pcmk.Interner }

func (in *interner) get(field []int8) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(field))), len(field))
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return in.Intern(b)
}

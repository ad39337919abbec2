package capture

import (
	"bytes"
	"unsafe"
)

// interner hands out one string per distinct comm, service or connection
// name: a message would otherwise allocate three. Messages come in runs of
// one connection, so the last string is tried before the map.
type interner struct {
	last []byte
	str  string
	m    map[string]string
}

func (in *interner) get(field []int8) string {
	b := unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(field))), len(field))
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if in.m != nil && bytes.Equal(b, in.last) {
		return in.str
	}
	s, ok := in.m[string(b)] // no allocation: the compiler sees the lookup
	if !ok {
		if in.m == nil || len(in.m) > 4096 {
			in.m = map[string]string{}
		}
		s = string(b)
		in.m[s] = s
	}
	in.last = append(in.last[:0], b...)
	in.str = s
	return s
}

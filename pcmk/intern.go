package pcmk

import "bytes"

// An Interner hands out one string per distinct value of the fields that
// take few values (comm, service and connection names, element names,
// message types, operations), so that reading a record or a message does
// not allocate them anew. Runs of one value are common, so the last string
// is tried before the table. The zero value is ready to use; an Interner
// is not safe for concurrent use.
type Interner struct {
	m    map[string]string
	last string
}

// maxInterned bounds the table against input with endless distinct
// values; a full table starts over.
const maxInterned = 4096

// Intern returns b as a string, the same string for the same bytes.
func (in *Interner) Intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if string(b) == in.last {
		return in.last
	}
	s, ok := in.m[string(b)] // no allocation for the lookup
	if !ok {
		if in.m == nil || len(in.m) >= maxInterned {
			in.m = make(map[string]string)
		}
		s = string(b)
		in.m[s] = s
	}
	in.last = s
	return s
}

// maxInternedValue is the longest attribute value worth interning.
const maxInternedValue = 64

// InternValue returns a raw XML attribute value with its references
// replaced: interned when it is short and has none, else built anew, as it
// is by a nil Interner.
func (in *Interner) InternValue(v []byte) string {
	if in == nil || len(v) > maxInternedValue || bytes.IndexByte(v, '&') >= 0 {
		return Unescape(v)
	}
	return in.Intern(v)
}

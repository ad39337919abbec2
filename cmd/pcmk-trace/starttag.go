package main

import "bytes"

// xmlRoot returns "<name>" when data is a Pacemaker message whose payload
// (after its 40-byte header) starts with an XML element, followed by the
// operation its start tag names (cib_op, st_op, lrmd_op, crm_task or task,
// as decode ranks them), "(bzip2)" when the payload is compressed, or "".
// It looks at the start tag, no further.
func xmlRoot(data []byte) string {
	const hdr = 40
	// The envelope's version byte: offset 36 in 2.1.x-3.0.0, 32 in 3.0.1+.
	if len(data) <= hdr || (data[36] != 1 && data[32] != 1) {
		return ""
	}
	p := data[hdr:]
	if bytes.HasPrefix(p, []byte("BZh")) {
		return "(bzip2)"
	}
	if p[0] != '<' {
		return ""
	}
	end := 1
	for end < len(p) && end < 64 {
		c := p[end]
		if c == ' ' || c == '>' || c == '/' || c == '\t' || c == '\n' || c == 0 {
			break
		}
		if c < 0x21 || c > 0x7e {
			return ""
		}
		end++
	}
	if end == 1 || end == 64 {
		return ""
	}
	root := "<" + string(p[1:end]) + ">"
	if op := startTagOp(p[end:min(len(p), 4096)]); op != "" {
		return root + " " + op
	}
	return root
}

// opRank ranks the attributes that name an operation as decode does; lower wins.
var opRank = map[string]int{"cib_op": 1, "st_op": 2, "lrmd_op": 3, "crm_task": 4, "task": 5}

// startTagOp walks the attributes of a start tag (from after its name) and
// returns the operation the best-ranked one names, when it is short and
// printable; it stops at the tag's end or at anything it cannot read.
func startTagOp(tag []byte) string {
	op, rank := "", len(opRank)+1
	for i := 0; ; {
		for i < len(tag) && isSpace(tag[i]) {
			i++
		}
		j := i
		for j < len(tag) && tag[j] != '=' && tag[j] != '>' && tag[j] != '/' && !isSpace(tag[j]) {
			j++
		}
		name := tag[i:j]
		for j < len(tag) && isSpace(tag[j]) {
			j++
		}
		if len(name) == 0 || j >= len(tag) || tag[j] != '=' {
			return op
		}
		for j++; j < len(tag) && isSpace(tag[j]); j++ {
		}
		if j >= len(tag) || (tag[j] != '"' && tag[j] != '\'') {
			return op
		}
		k := bytes.IndexByte(tag[j+1:], tag[j])
		if k < 0 {
			return op
		}
		value := tag[j+1 : j+1+k]
		if r, ok := opRank[string(name)]; ok && r < rank && printable(value) {
			op, rank = string(value), r
		}
		i = j + 1 + k + 1
	}
}

func printable(v []byte) bool {
	if len(v) == 0 || len(v) > 64 {
		return false
	}
	for _, c := range v {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

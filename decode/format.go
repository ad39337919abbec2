package decode

import (
	"math/bits"
	"time"
	"unicode/utf8"
)

// Formatter writes messages in one output format. Output is buffered:
// Flush writes it out, Close completes the document (the XML format has a
// closing tag) and flushes. Neither closes the underlying writer.
type Formatter interface {
	Format(m *Message) error
	Flush() error
	Close() error
}

// timeLayout is RFC 3339 with a fixed nine-digit fraction, so that times
// line up and sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// appendTime appends t in UTC in timeLayout. It writes the digits itself,
// a few times faster than AppendFormat, which parses the layout each call:
// every line of JSON has a time.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, timeLayout)
	}
	hour, minute, sec := t.Clock()
	b = appendDigits(b, year, 4)
	b = appendDigits(append(b, '-'), int(month), 2)
	b = appendDigits(append(b, '-'), day, 2)
	b = appendDigits(append(b, 'T'), hour, 2)
	b = appendDigits(append(b, ':'), minute, 2)
	b = appendDigits(append(b, ':'), sec, 2)
	b = appendDigits(append(b, '.'), t.Nanosecond(), 9)
	return append(b, 'Z')
}

// appendDigits appends v, at least 0, as exactly n decimal digits.
func appendDigits(b []byte, v, n int) []byte {
	b = append(b, "000000000"[:n]...)
	for i := len(b) - 1; n > 0; i, n = i-1, n-1 {
		b[i] = byte('0' + v%10)
		v /= 10
	}
	return b
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as encoding/json does; '<', '>' and '&' are left alone.
func appendJSONString[T string | []byte](b []byte, s T) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		// Skip plain bytes eight at a time: most of an XML text needs no
		// escaping, and the runs between attribute quotes are long enough.
		for i+8 <= len(s) {
			x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
				uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
			if m := jsonSpecial(x); m != 0 {
				i += bits.TrailingZeros64(m) >> 3
				break
			}
			i += 8
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if jsonSafe[c] {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, n := decodeRune(s, i)
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xF])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonSpecial marks (with its high bit) each byte of the little-endian word
// x that appendJSONString cannot copy as is: below 0x20, '"', '\\', or
// not ASCII. Borrows can mark bytes above a marked one, never below, so
// the lowest mark is exact.
func jsonSpecial(x uint64) uint64 {
	const lsb, msb = 0x0101010101010101, 0x8080808080808080
	quote := x ^ ('"' * lsb)
	backslash := x ^ ('\\' * lsb)
	return ((x-0x20*lsb)&^x | (quote-lsb)&^quote | (backslash-lsb)&^backslash | x) & msb
}

var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendXMLEscaped appends s escaped for XML text or a double-quoted
// attribute; characters XML 1.0 cannot carry become U+FFFD.
func appendXMLEscaped[T string | []byte](b []byte, s T) []byte {
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		var rep string
		n := 1
		switch {
		case c == '&':
			rep = "&amp;"
		case c == '<':
			rep = "&lt;"
		case c == '>':
			rep = "&gt;"
		case c == '"':
			rep = "&quot;"
		case c == '\n' || c == '\t':
			// kept in text; in attributes they would be normalised
			if c == '\n' {
				rep = "&#10;"
			} else {
				rep = "&#9;"
			}
		case c == '\r':
			rep = "&#13;"
		case c < 0x20:
			rep = "\uFFFD"
		case c >= utf8.RuneSelf:
			var r rune
			r, n = decodeRune(s, i)
			if (r == utf8.RuneError && n == 1) || !xmlChar(r) {
				rep = "\uFFFD"
			}
		}
		if rep == "" {
			i += n
			continue
		}
		b = append(b, s[start:i]...)
		b = append(b, rep...)
		i += n
		start = i
	}
	return append(b, s[start:]...)
}

// decodeRune decodes the rune at s[i:]; converting at most four bytes to
// a string does not allocate.
func decodeRune[T string | []byte](s T, i int) (rune, int) {
	return utf8.DecodeRuneInString(string(s[i:min(i+utf8.UTFMax, len(s))]))
}

package redact

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// alphabet is what a placeholder is made of between its two stars.
const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"

// placeholders makes the same-length stand-ins for secrets.
type placeholders struct {
	mac hash.Hash
	sum []byte
	ctr [4]byte
}

// newPlaceholders keys the HMAC with key, or a random key when key is nil.
func newPlaceholders(key []byte) *placeholders {
	if key == nil {
		key = make([]byte, 32)
		rand.Read(key) // never fails (crypto/rand panics rather)
	}
	return &placeholders{mac: hmac.New(sha256.New, key)}
}

// fill overwrites dst (the secret as written) with the placeholder of
// value (the secret unescaped).
func (p *placeholders) fill(dst, value []byte) {
	n := len(dst)
	if n == 0 {
		return
	}
	dst[0], dst[n-1] = '*', '*'
	if n <= 2 {
		return
	}
	mid := dst[1 : n-1]
	for block := uint32(0); len(mid) > 0; block++ {
		p.mac.Reset()
		binary.BigEndian.PutUint32(p.ctr[:], block)
		p.mac.Write(p.ctr[:])
		p.mac.Write(value)
		p.sum = p.mac.Sum(p.sum[:0])
		k := min(len(mid), len(p.sum))
		for i := range k {
			mid[i] = alphabet[int(p.sum[i])%len(alphabet)]
		}
		mid = mid[k:]
	}
}

// IsPlaceholder reports whether v has the shape of a placeholder: "*",
// "**", or "*" letters and digits "*". Replay treats such a value in a
// redacted capture as a wildcard.
func IsPlaceholder(v string) bool {
	n := len(v)
	if n == 0 || v[0] != '*' || v[n-1] != '*' {
		return false
	}
	for i := 1; i < n-1; i++ {
		c := v[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

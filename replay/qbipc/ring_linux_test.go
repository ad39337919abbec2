package qbipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

func newTestRing(t *testing.T, max int) *ring {
	t.Helper()
	r, err := createRing(filepath.Join(t.TempDir(), "qb-request-test"), max)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.unmap() })
	return r
}

// TestRingFraming checks the chunk layout against docs/protocol.md 4.3: a 126-byte chunk at
// word 0 has its size at word 0, the committed magic at word 1, its payload from word 2,
// and the next chunk starts at word 34.
func TestRingFraming(t *testing.T) {
	r := newTestRing(t, 131072)
	if r.words != 135168/4 {
		t.Fatalf("ring of %d words, want %d (135168 bytes for max 131072)", r.words, 135168/4)
	}
	msg := bytes.Repeat([]byte{0xab}, 126)
	if err := r.write(msg[:100], msg[100:]); err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	for _, c := range []struct {
		what string
		got  uint32
		want uint32
	}{
		{"write_pt", le.Uint32(r.hdr[hdrWritePt:]), 34},
		{"read_pt", le.Uint32(r.hdr[hdrReadPt:]), 0},
		{"size word", le.Uint32(r.data[0:]), 126},
		{"magic", le.Uint32(r.data[4:]), chunkMagic},
		{"semaphore value", r.sem.value(), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.what, c.got, c.want)
		}
	}
	if !bytes.Equal(r.data[8:8+126], msg) {
		t.Error("payload not at word 2")
	}
	if !r.sem.tryWait() {
		t.Fatal("tryWait on a posted semaphore failed")
	}
	got, err := r.read(nil)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read = %d bytes, %v", len(got), err)
	}
	if m := le.Uint32(r.data[4:]); m != chunkMagicDead {
		t.Errorf("reclaimed magic %#x, want %#x", m, uint32(chunkMagicDead))
	}
	if rp := le.Uint32(r.hdr[hdrReadPt:]); rp != 34 {
		t.Errorf("read_pt after reclaim %d, want 34", rp)
	}
}

// TestRingWrap pushes chunks of every alignment through a small ring many times over,
// so chunks straddle the end and are read back whole through the second mapping.
func TestRingWrap(t *testing.T) {
	r := newTestRing(t, 12328) // 16384-byte ring
	rng := rand.New(rand.NewPCG(1, 2))
	var queue [][]byte
	wrapped, straddled := 0, 0
	for i := 0; i < 5000; i++ {
		n := rng.IntN(3000)
		if rng.IntN(10) == 0 {
			n = rng.IntN(8)
		}
		msg := make([]byte, n)
		for j := range msg {
			msg[j] = byte(rng.Uint32())
		}
		before := atomic.LoadUint32(r.u32(hdrWritePt))
		err := r.write(msg)
		if errors.Is(err, ErrFull) {
			// Drain half and go on.
			for k := len(queue) / 2; k >= 0 && len(queue) > 0; k-- {
				readOne(t, r, queue[0])
				queue = queue[1:]
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		after := atomic.LoadUint32(r.u32(hdrWritePt))
		if after < before {
			wrapped++
			if before+chunkHeader < r.words && after > 0 {
				straddled++
			}
		}
		queue = append(queue, msg)
	}
	for _, msg := range queue {
		readOne(t, r, msg)
	}
	if wrapped < 100 || straddled < 50 {
		t.Errorf("only %d wraps, %d payloads across the end: test too weak", wrapped, straddled)
	}
	if r.sem.value() != 0 {
		t.Errorf("semaphore %d after draining", r.sem.value())
	}
}

func readOne(t *testing.T, r *ring, want []byte) {
	t.Helper()
	if !r.sem.tryWait() {
		t.Fatal("semaphore not posted")
	}
	got, err := r.read(nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want %d, or content differs", len(got), len(want))
	}
}

// TestRingFreeSpace checks libqb's rule: a write needs len + 12 bytes free, and the
// largest message the server allows always fits in an empty ring.
func TestRingFreeSpace(t *testing.T) {
	const max = 12328
	r := newTestRing(t, max)
	size := int(r.words) * 4
	if err := r.write(make([]byte, size-chunkMargin+1)); !errors.Is(err, ErrFull) {
		t.Fatalf("write of ring size - 11 into an empty ring: %v, want ErrFull", err)
	}
	if err := r.write(make([]byte, max)); err != nil {
		t.Fatalf("write of max into an empty ring: %v", err)
	}
	free := r.spaceFree()
	if err := r.write(make([]byte, free-chunkMargin+1)); !errors.Is(err, ErrFull) {
		t.Fatalf("write of free - 11: %v, want ErrFull", err)
	}
	if err := r.write(make([]byte, free-chunkMargin)); err != nil {
		t.Fatalf("write of free - 12: %v", err)
	}
}

// TestSemWaiters checks glibc's protocol: a waiter is counted in the high word while it
// sleeps, a post wakes it, and it leaves value and count at zero.
func TestSemWaiters(t *testing.T) {
	r := newTestRing(t, 12328)
	s := r.sem
	if s.wait(20 * time.Millisecond) {
		t.Fatal("wait on an empty semaphore succeeded")
	}
	if d := atomic.LoadUint64(s.data); d != 0 {
		t.Fatalf("semaphore word %#x after a timed-out wait, want 0", d)
	}
	done := make(chan bool)
	go func() { done <- s.wait(5 * time.Second) }()
	deadline := time.Now().Add(time.Second)
	for atomic.LoadUint64(s.data)>>32 != 1 {
		if time.Now().After(deadline) {
			t.Fatal("waiter never registered")
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := s.post(); err != nil {
		t.Fatal(err)
	}
	if !<-done {
		t.Fatal("wait did not take the posted unit")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("woken after %v", d)
	}
	if d := atomic.LoadUint64(s.data); d != 0 {
		t.Fatalf("semaphore word %#x after the wake-up, want 0", d)
	}
	if op := s.futexOp(futexWake); op != futexWake {
		t.Errorf("futex op %d for a shared semaphore, want %d (no private flag)", op, futexWake)
	}
}

//go:build linux && amd64

package capture

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// The kernel's ring buffer record header: its length word carries these
// two flags; the data follows the 8-byte header, padded to 8 bytes.
const (
	ringBusy    = 1 << 31 // reserved, not committed yet
	ringDiscard = 1 << 30 // discarded: skip it
	ringHdrLen  = 8
)

// eventRing reads the events ring buffer where the kernel wrote it: each
// piece is handed to reassembly in place and its space given back after,
// so a message is copied once, its own bytes only (a general reader copies
// each record out whole, the unused rest of its reservation class too).
// The consumer position is the only page mapped writable.
type eventRing struct {
	mu       sync.Mutex // held while the mappings are read; Close takes it to unmap
	consumer []byte     // one page: the consumer position
	producer []byte     // one page (the producer position), then the data mapped twice
	data     []byte
	mask     uint64
	closed   bool
}

func openEventRing(m *ebpf.Map) (*eventRing, error) {
	size := int(m.MaxEntries())
	page := os.Getpagesize()
	cons, err := unix.Mmap(m.FD(), 0, page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map ring buffer consumer page: %w", err)
	}
	prod, err := unix.Mmap(m.FD(), int64(page), page+2*size, unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		unix.Munmap(cons)
		return nil, fmt.Errorf("map ring buffer data: %w", err)
	}
	return &eventRing{consumer: cons, producer: prod, data: prod[page:], mask: uint64(size - 1)}, nil
}

func (r *eventRing) consPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.consumer[0])) }
func (r *eventRing) prodPos() *uint64 { return (*uint64)(unsafe.Pointer(&r.producer[0])) }

// read calls f with each committed piece, in place, until the ring is
// empty, f returns false, or the next piece is still being written (busy:
// its writer commits it within microseconds). It gives each piece's space
// back after f returned. open is false once the ring is closed.
func (r *eventRing) read(f func(piece []byte) bool) (open, busy bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false, false
	}
	cons := atomic.LoadUint64(r.consPos())
	prod := atomic.LoadUint64(r.prodPos())
	for cons < prod {
		// The length word is written last, atomically: once it says
		// committed, the bytes before it are there.
		hdr := atomic.LoadUint32((*uint32)(unsafe.Pointer(&r.data[cons&r.mask])))
		if hdr&ringBusy != 0 {
			return true, true
		}
		n := uint64(hdr &^ (ringBusy | ringDiscard))
		start := (cons + ringHdrLen) & r.mask
		cons += ringHdrLen + (n+7)&^7
		more := true
		if hdr&ringDiscard == 0 {
			// The data is mapped twice in a row: a piece that wraps
			// around the end is contiguous here.
			more = f(r.data[start : start+n : start+n])
		}
		atomic.StoreUint64(r.consPos(), cons)
		if !more {
			break
		}
	}
	return true, false
}

func (r *eventRing) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return errors.Join(unix.Munmap(r.producer), unix.Munmap(r.consumer))
}

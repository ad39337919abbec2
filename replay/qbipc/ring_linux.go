package qbipc

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Layout of libqb's struct qb_ringbuffer_shared_s (x86_64, PATH_MAX 4096, 32-byte sem_t),
// the header file every ring has next to its data file.
const (
	hdrWritePt  = 0
	hdrReadPt   = 4
	hdrWordSize = 8
	hdrPath     = 12
	hdrDataPath = 4108
	hdrRefCount = 8204
	hdrSem      = 8208
	hdrUserData = 8240 // request ring: the flow-control word
	hdrSize     = 8248

	chunkMagic      = 0xA1A1A1A1 // committed, readable
	chunkMagicDead  = 0xD0D0D0D0 // reclaimed
	chunkMagicAlloc = 0xA110CED0 // being written
	chunkHeader     = 2          // words: size, magic
	// chunkMargin is libqb's free-space margin: two header words and one alignment word.
	chunkMargin = 4 * (chunkHeader + 1)
)

// A ring is one mapped libqb ring buffer: the shared header and the data file, mapped
// twice back to back as libqb maps it, so every chunk, even one that wraps past the end,
// is one contiguous slice of data.
type ring struct {
	name  string // header file path, for errors
	hdr   []byte // shared header (unix.Mmap)
	data  []byte // 2 × size bytes: the data file mapped twice
	words uint32 // ring size in 32-bit words
	sem   sem
	owner bool // created by this process (tests' fake server), not opened
}

// openRing maps the ring whose base name the server handed out (…/qb-request-cib_ro),
// reading every path through root, and registers this process as its second user by
// incrementing ref_count, as libqb's client does.
func openRing(root, name string) (r *ring, err error) {
	hdrFile := root + name + "-header"
	f, err := os.OpenFile(hdrFile, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() < hdrSize {
		return nil, fmt.Errorf("%s: %d-byte ring header, want at least %d", hdrFile, st.Size(), hdrSize)
	}
	// The request header carries 4 bytes of user data (libqb truncates the others to
	// 8248 bytes when its client opens them with no user data).
	hdr, err := unix.Mmap(int(f.Fd()), 0, int(min(st.Size(), hdrSize+4)), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", hdrFile, err)
	}
	r = &ring{name: hdrFile, hdr: hdr}
	defer func() {
		if err != nil {
			r.unmap()
		}
	}()
	r.words = atomic.LoadUint32(r.u32(hdrWordSize))
	dataFile := root + cString(hdr[hdrDataPath:hdrDataPath+pathMax])
	size := int(r.words) * 4
	if size == 0 || size%os.Getpagesize() != 0 {
		return r, fmt.Errorf("%s: ring of %d words is not a whole number of pages", hdrFile, r.words)
	}
	df, err := os.OpenFile(dataFile, os.O_RDWR, 0)
	if err != nil {
		return r, err
	}
	defer df.Close()
	if st, err := df.Stat(); err != nil {
		return r, err
	} else if st.Size() < int64(size) {
		return r, fmt.Errorf("%s: %d bytes, the header says %d", dataFile, st.Size(), size)
	}
	if r.data, err = mapTwice(int(df.Fd()), size); err != nil {
		return r, fmt.Errorf("map %s: %w", dataFile, err)
	}
	r.sem = newSem(unsafe.Pointer(&hdr[hdrSem]))
	atomic.AddUint32(r.u32(hdrRefCount), 1)
	return r, nil
}

// mapTwice maps size bytes of fd twice, back to back, as libqb's qb_sys_circular_mmap
// does: reserve 2 × size of address space, then map the file over each half with
// MAP_FIXED. unix.Mmap cannot map at a given address, hence the pointer API.
func mapTwice(fd, size int) ([]byte, error) {
	base, err := unix.MmapPtr(-1, 0, nil, uintptr(2*size), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return nil, err
	}
	for i := range 2 {
		want := unsafe.Add(base, i*size)
		got, err := unix.MmapPtr(fd, 0, want, uintptr(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_FIXED)
		if err == nil && got != want {
			err = fmt.Errorf("mapped at %p, want %p", got, want)
		}
		if err != nil {
			unix.MunmapPtr(base, uintptr(2*size))
			return nil, err
		}
	}
	return unsafe.Slice((*byte)(base), 2*size), nil
}

// close drops this process's reference (qb_rb_close) and unmaps the ring.
func (r *ring) close() error {
	if r.hdr != nil && !r.owner {
		atomic.AddUint32(r.u32(hdrRefCount), ^uint32(0))
	}
	return r.unmap()
}

func (r *ring) unmap() error {
	var err error
	if r.data != nil {
		err = unix.MunmapPtr(unsafe.Pointer(&r.data[0]), uintptr(len(r.data)))
		r.data = nil
	}
	if r.hdr != nil {
		if e := unix.Munmap(r.hdr); err == nil {
			err = e
		}
		r.hdr = nil
	}
	return err
}

func (r *ring) u32(off int) *uint32 { return (*uint32)(unsafe.Pointer(&r.hdr[off])) }

// word is the data word at index i (0 <= i < words).
func (r *ring) word(i uint32) *uint32 { return (*uint32)(unsafe.Pointer(&r.data[4*i])) }

func (r *ring) refCount() int32 { return int32(atomic.LoadUint32(r.u32(hdrRefCount))) }

// userData is the request ring's flow-control word, or 0 when the header has none.
func (r *ring) userData() int32 {
	if len(r.hdr) < hdrUserData+4 {
		return 0
	}
	return int32(atomic.LoadUint32(r.u32(hdrUserData)))
}

// spaceFree is qb_rb_space_free in bytes. Equal pointers mean empty, unless the semaphore
// counts unread chunks (the ring is exactly full).
func (r *ring) spaceFree() int {
	w := atomic.LoadUint32(r.u32(hdrWritePt))
	rd := atomic.LoadUint32(r.u32(hdrReadPt))
	var free uint32
	switch {
	case w > rd:
		free = rd - w + r.words - 1
	case w < rd:
		free = rd - w - 1
	case r.sem.value() > 0:
		free = 0
	default:
		free = r.words
	}
	return int(free) * 4
}

// step is the word index of the chunk after the one at p holding size bytes: two header
// words, then the payload rounded up to whole words, modulo the ring size.
func (r *ring) step(p, size uint32) uint32 {
	p += chunkHeader + size/4
	if size%4 != 0 {
		p++
	}
	return p % r.words
}

// write appends one chunk holding the concatenation of parts, commits it and posts the
// semaphore (qb_rb_chunk_alloc, memcpy, qb_rb_chunk_commit). It returns ErrFull when the
// ring lacks room; the chunk is then not written.
func (r *ring) write(parts ...[]byte) (err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	if r.spaceFree() < n+chunkMargin {
		return ErrFull
	}
	w := atomic.LoadUint32(r.u32(hdrWritePt))
	if w >= r.words {
		return fmt.Errorf("%s: write pointer %d beyond %d words: %w", r.name, w, r.words, errCorrupt)
	}
	// Header, payload and size are plain stores, as libqb's are: the atomic stores of
	// the write pointer and the magic order them before the commit. (An atomic store
	// is a locked instruction on amd64, which waits for the store buffer to drain: one
	// per word would stall on every cache line the server last touched.)
	*r.word(w) = 0
	*r.word((w + 1) % r.words) = chunkMagicAlloc
	off := 4 * int((w+chunkHeader)%r.words)
	for _, p := range parts {
		off += copy(r.data[off:], p)
	}
	*r.word(w) = uint32(n)
	atomic.StoreUint32(r.u32(hdrWritePt), r.step(w, uint32(n)))
	// The magic is the commit: a reader trusts size and payload once it sees it.
	atomic.StoreUint32(r.word((w+1)%r.words), chunkMagic)
	return r.sem.post()
}

// read appends the chunk at the read pointer to dst (a new slice when dst is nil) and
// reclaims it (qb_rb_chunk_read). The caller has already taken one unit of the
// semaphore; if the chunk is not committed the unit is given back, as libqb does.
func (r *ring) read(dst []byte) (msg []byte, err error) {
	defer catchFault(&err, debug.SetPanicOnFault(true))
	rp := atomic.LoadUint32(r.u32(hdrReadPt))
	if rp >= r.words {
		return nil, fmt.Errorf("%s: read pointer %d beyond %d words: %w", r.name, rp, r.words, errCorrupt)
	}
	if m := atomic.LoadUint32(r.word((rp + 1) % r.words)); m != chunkMagic {
		r.sem.post()
		return nil, fmt.Errorf("%s: chunk at word %d has magic %#x: %w", r.name, rp, m, errCorrupt)
	}
	size := atomic.LoadUint32(r.word(rp))
	if size > 4*r.words-chunkMargin {
		return nil, fmt.Errorf("%s: %d-byte chunk in a %d-byte ring: %w", r.name, size, 4*r.words, errCorrupt)
	}
	off := 4 * int((rp+chunkHeader)%r.words)
	if dst == nil {
		dst = make([]byte, 0, size)
	}
	msg = append(dst, r.data[off:off+int(size)]...)
	// Reclaim: clear the header before moving the read pointer, so a fast writer never
	// sees its new chunk's header overwritten.
	next := r.step(rp, size)
	*r.word(rp) = 0
	*r.word((rp + 1) % r.words) = chunkMagicDead
	atomic.StoreUint32(r.u32(hdrReadPt), next)
	return msg, nil
}

// catchFault, deferred with the result of debug.SetPanicOnFault(true), turns a memory
// fault while touching a ring (a file truncated under us) into ErrDisconnected instead of
// crashing the program, and restores the goroutine's previous setting.
func catchFault(err *error, old bool) {
	debug.SetPanicOnFault(old)
	// Recover only what SetPanicOnFault produced; anything else is a bug and re-panics.
	if v := recover(); v != nil {
		if re, ok := v.(runtime.Error); ok {
			if _, ok := v.(interface{ Addr() uintptr }); ok {
				*err = fmt.Errorf("ring memory fault: %w: %w", re, ErrDisconnected)
				return
			}
		}
		panic(v)
	}
}

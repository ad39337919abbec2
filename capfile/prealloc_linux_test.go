//go:build linux

package capfile

import (
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// TestCreatePreallocates checks that a file made by Create holds blocks
// ahead of what was written while it is open, shows only what was written,
// and gives the blocks past that back on Close.
func TestCreatePreallocates(t *testing.T) {
	dir := t.TempDir()
	probe, err := os.Create(filepath.Join(dir, "probe"))
	if err != nil {
		t.Fatal(err)
	}
	supported := unix.Fallocate(int(probe.Fd()), unix.FALLOC_FL_KEEP_SIZE, 0, 4096) == nil
	probe.Close()
	if !supported {
		t.Skipf("%s: the filesystem cannot preallocate", dir)
	}
	path := filepath.Join(dir, "x.pcapng")
	w, err := Create(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 100 {
		if err := w.Write(sample(uint64(i), payload(1000, byte(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	size, allocated := sizes(t, path)
	if allocated < preallocMin || allocated < size {
		t.Errorf("open file of %d bytes holds %d bytes of blocks, want at least %d", size, allocated, max(size, preallocMin))
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	closedSize, allocated := sizes(t, path)
	if closedSize != size || allocated > size+64<<10 {
		t.Errorf("closed file: %d bytes (%d before Close), %d bytes of blocks: want the blocks past the end given back", closedSize, size, allocated)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if recs, _, err := readAll(t, file); err != io.EOF || len(recs) != 100 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
}

// sizes returns a file's size and the bytes of the blocks it holds.
func sizes(t *testing.T, path string) (size, allocated int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size(), fi.Sys().(*syscall.Stat_t).Blocks * 512
}

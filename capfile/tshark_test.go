package capfile

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestTshark proves Wireshark opens every packet of a file holding a
// message larger than tshark 4.0's packet limit: without the split, tshark
// stops at that message and drops the rest of the file.
func TestTshark(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testcluster.Skip(t, "tshark not installed")
	}
	recs := []*Record{
		sample(1, payload(100, 1)),
		sample(2, payload(600000, 2)), // three packets
		sample(3, payload(5000, 3)),
		sample(4, nil),
	}
	path := filepath.Join(t.TempDir(), "big.pcapng")
	w, err := Create(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, rec := range recs {
		if err := w.Write(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	cmd := exec.Command(tshark, "-n", "-r", path, "-T", "fields", "-e", "frame.len")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	var want []string
	for _, rec := range recs {
		for off := 0; ; off += maxChunk {
			n := min(maxChunk, len(rec.Data)-off)
			want = append(want, strconv.Itoa(HeaderLen+n))
			if off+maxChunk >= len(rec.Data) {
				break
			}
		}
	}
	got := strings.Fields(stdout.String())
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("tshark frame lengths %v, want %v\nstderr: %s", got, want, stderr.String())
	}
}

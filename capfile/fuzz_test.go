package capfile

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the seed corpus in testdata/fuzz/FuzzReader")

// FuzzReader feeds the reader arbitrary bytes. It must not panic, must end,
// and cannot return more record bytes than the input holds: a length read
// from the file never decides an allocation by itself.
func FuzzReader(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed.data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		var rec Record
		for range len(data) + 1 {
			err := r.ReadInto(&rec)
			var fe *FormatError
			if errors.As(err, &fe) {
				continue
			}
			if err != nil {
				return
			}
			if len(rec.Data) > len(data) {
				t.Fatalf("record of %d bytes from %d bytes of input", len(rec.Data), len(data))
			}
		}
		// Every call consumes at least one block, so the loop cannot
		// run out before the input does.
		t.Fatal("reader did not end")
	})
}

type seed struct {
	name string
	data []byte
}

// fuzzSeeds are small files: valid ones and some broken ones.
func fuzzSeeds(tb testing.TB) []seed {
	// Fixed options: the defaults name the machine the test runs on.
	opts := WriterOptions{Section: SectionInfo{Recorder: "pcmk-trace test", Kernel: "Linux", Host: "node1"}}
	small := writeFileOpts(tb, opts, sample(1, payload(20, 1)), sample(2, nil))
	split := newBuilder(false).start().
		epb(0, ts0, pkt(5, FlagMore, 0, 30, payload(10, 0), nil)).
		epb(0, ts0, pkt(5, FlagCont|FlagMore, 10, 30, payload(10, 0), nil)).
		epb(0, ts0, pkt(5, FlagCont, 20, 30, payload(10, 0), nil)).Bytes()
	big := newBuilder(true).start().epb(0, ts0, whole(1, 3)).Bytes()
	connect := sample(3, nil)
	connect.Kind, connect.MaxMsgSize = KindConnect, 1<<20
	var stats bytes.Buffer
	w, err := NewWriter(&stats, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := w.Write(connect); err != nil {
		tb.Fatal(err)
	}
	if err := w.WriteStats(Stats{End: time.Unix(1700000000, 0), Received: 1}); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return []seed{
		{"small", small},
		{"split", split},
		{"big-endian", big},
		{"stats", stats.Bytes()},
		{"fail-cut", small[:len(small)-7]},
		{"fail-missing-continuation", split[:56+220]},
	}
}

// TestFuzzSeeds keeps the seed corpus in testdata in step with fuzzSeeds;
// go test -update rewrites it.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzReader")
	for _, s := range fuzzSeeds(t) {
		path := filepath.Join(dir, s.name)
		want := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s.data)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if string(got) != want {
			t.Errorf("%s is out of date: run go test -update", path)
		}
	}
}

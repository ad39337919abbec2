package decode

import (
	"bufio"
	"bytes"
	"flag"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Workloads: which generated scenarios a benchmark repeats.
var workloads = []struct {
	name   string
	rounds int // for the tshark comparison
	pick   func(scenario string) bool
}{
	// the everyday mix of short requests and replies
	{"small", 300, func(sc string) bool { return sc != "a-crm-mon" && sc != "a-compressed-request" && sc[0] != 'b' }},
	// dialect B messages of 130 to 300 KB, reassembled from parts
	{"multipart", 30, func(sc string) bool { return sc[0] == 'b' }},
	// everything, with two bzip2 bodies (192 KB and 580 KB) per round
	{"all", 30, func(string) bool { return true }},
}

// benchWorkload returns GENERATED records of a busy node: the scenarios
// pick selects, repeated n times, each round later than the last.
func benchWorkload(tb testing.TB, n int, pick func(string) bool) []*capfile.Record {
	g := newGen(tb)
	for range n {
		for _, sc := range scenarios {
			if !pick(sc.name) {
				continue
			}
			sc.build(g)
			g.tick(time.Millisecond)
		}
	}
	return g.recs
}

func recordBytes(recs []*capfile.Record) (n int64) {
	for _, r := range recs {
		n += int64(len(r.Data))
	}
	return n
}

// BenchmarkDecode measures decoding of generated records held in memory,
// alone and with each output format. msgs/s counts decoded messages; MB/s
// counts libqb message bytes in.
func BenchmarkDecode(b *testing.B) {
	for _, w := range workloads {
		recs := benchWorkload(b, 20, w.pick)
		for _, out := range []string{"none", "rootonly", "json", "text"} {
			b.Run(w.name+"/"+out, func(b *testing.B) {
				b.SetBytes(recordBytes(recs))
				b.ReportAllocs()
				msgs := 0
				for b.Loop() {
					var f Formatter
					switch out {
					case "json":
						f = NewJSONFormatter(io.Discard)
					case "text":
						f = NewTextFormatter(io.Discard)
					}
					r := NewReader(&sliceSource{recs: recs}, Options{RootOnly: out == "rootonly"})
					for {
						m, err := r.Next()
						if err == io.EOF {
							break
						}
						if err != nil {
							b.Fatal(err)
						}
						msgs++
						if f != nil {
							f.Format(m)
						}
					}
					if f != nil {
						f.Close()
					}
				}
				b.ReportMetric(float64(msgs)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}

var compareTshark = flag.Bool("tshark", false, "TestCompareTshark: time tshark with the project's Lua dissector against decode")

// TestCompareTshark writes the generated workloads into capture files and
// times `tshark -T json` with wireshark/pcmk-trace.lua against reading the
// same file with capfile and decode into JSON lines. The target is decode
// at least 50 times faster. Run: go test -run TestCompareTshark -tshark -v.
func TestCompareTshark(t *testing.T) {
	if !*compareTshark {
		t.Skip("run with -tshark")
	}
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		t.Skip("tshark not installed")
	}
	lua, err := filepath.Abs(filepath.Join("..", "wireshark", "pcmk-trace.lua"))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range workloads {
		t.Run(w.name, func(t *testing.T) {
			recs := benchWorkload(t, w.rounds, w.pick)
			path := filepath.Join(t.TempDir(), w.name+".pcapng")
			cw, err := capfile.Create(path, capfile.WriterOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range recs {
				if err := cw.Write(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := cw.Close(); err != nil {
				t.Fatal(err)
			}
			fi, _ := os.Stat(path)

			cmd := exec.Command(tshark, "-n", "-X", "lua_script:"+lua, "-r", path, "-T", "json")
			cmd.Stdout = io.Discard
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			start := time.Now()
			if err := cmd.Run(); err != nil {
				t.Fatalf("tshark: %v\n%s", err, stderr.String())
			}
			tTshark := time.Since(start)

			var runs []time.Duration
			var msgs int
			for range 5 {
				start = time.Now()
				msgs = decodeFile(t, path)
				runs = append(runs, time.Since(start))
			}
			tDecode := slices.Min(runs)
			t.Logf("%s: %d records, %d messages, %.1f MB file", w.name, len(recs), msgs, float64(fi.Size())/1e6)
			t.Logf("tshark -T json + Lua: %v (%.0f records/s)", tTshark, float64(len(recs))/tTshark.Seconds())
			t.Logf("capfile + decode + JSON: %v (%.0f msgs/s, %.0f MB/s of file)", tDecode,
				float64(msgs)/tDecode.Seconds(), float64(fi.Size())/1e6/tDecode.Seconds())
			t.Logf("ratio: %.0fx", tTshark.Seconds()/tDecode.Seconds())
		})
	}
}

// decodeFile decodes a capture file into JSON lines, discarded, and
// returns the number of messages.
func decodeFile(t *testing.T, path string) int {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(cr, Options{})
	jf := NewJSONFormatter(io.Discard)
	n := 0
	for {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if m.Err != nil {
			t.Fatalf("seq %d: %v", m.Seq, m.Err)
		}
		jf.Format(m)
		n++
	}
	jf.Close()
	return n
}

// benchCaptures are the real captures BenchmarkDecodeCapture reads; the
// file named by PCMK_TRACE_BENCH_CAPTURE (bench/decode.sh KEEP=path keeps
// its large one) is read too.
var benchCaptures = []string{"bookworm-workload", "bookworm-big-cib", "sid-big-cib"}

// BenchmarkDecodeCapture decodes a real capture held in memory into JSON
// lines, as `pcmk-trace decode -f json` does (recycling records and
// messages) but in one goroutine. One op is
// one message: allocs/op and B/op are the garbage each message leaves, the
// cost the steady path of a long capture pays (the capture starts over at its
// end; opening it again is spread over its messages).
func BenchmarkDecodeCapture(b *testing.B) {
	names, paths := benchCapturePaths()
	for _, name := range names {
		data, err := os.ReadFile(paths[name])
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			var r *Reader
			open := func() {
				cr, err := capfile.NewReader(bytes.NewReader(data))
				if err != nil {
					b.Fatal(err)
				}
				r = NewReader(cr, Options{Recycle: true})
			}
			open()
			jf := NewJSONFormatter(io.Discard)
			var in int64
			b.ReportAllocs()
			for b.Loop() {
				m, err := r.Next()
				if err == io.EOF {
					open()
					m, err = r.Next()
				}
				if err != nil {
					b.Fatal(err)
				}
				in += int64(len(m.XML))
				jf.Format(m)
				m.Release()
			}
			jf.Close()
			b.ReportMetric(float64(in)/1e6/b.Elapsed().Seconds(), "MB/s")
		})
	}
}

// BenchmarkDecodeTop decodes a real capture as pcmk-trace top does
// (Options.RootOnly, NoRelays and Lifecycle, each message released once
// looked at, no formatting): one op is one message; allocs/op and B/op are
// what top's decoding leaves per message. The relays variant links relayed
// requests, as NoRelays does not.
func BenchmarkDecodeTop(b *testing.B) {
	names, paths := benchCapturePaths()
	for _, name := range names {
		data, err := os.ReadFile(paths[name])
		if err != nil {
			b.Fatal(err)
		}
		for _, relays := range []bool{false, true} {
			sub := name
			if relays {
				sub += "/relays"
			}
			b.Run(sub, func(b *testing.B) { benchDecodeTop(b, data, relays) })
		}
	}
}

func benchDecodeTop(b *testing.B, data []byte, relays bool) {
	var r *Reader
	open := func() {
		cr, err := capfile.NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		r = NewReader(cr, Options{RootOnly: true, NoRelays: !relays, Lifecycle: true, Recycle: true})
	}
	open()
	var ops int
	b.ReportAllocs()
	for b.Loop() {
		m, err := r.Next()
		if err == io.EOF {
			open()
			m, err = r.Next()
		}
		if err != nil {
			b.Fatal(err)
		}
		ops += len(m.Op)
		m.Release()
	}
	if ops < 0 {
		b.Fatal("never")
	}
}

// benchCapturePaths names the captures the whole-capture benchmarks decode: the repository's,
// then PCMK_TRACE_BENCH_CAPTURE's (as "env") when set.
func benchCapturePaths() ([]string, map[string]string) {
	paths := map[string]string{}
	var names []string
	for _, c := range benchCaptures {
		paths[c] = filepath.Join(captureDir, c+".pcapng")
		names = append(names, c)
	}
	if p := os.Getenv("PCMK_TRACE_BENCH_CAPTURE"); p != "" {
		paths["env"] = p
		names = append(names, "env")
	}
	return names, paths
}

package capfile

import (
	"bytes"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestSectionRoundTrip(t *testing.T) {
	full := SectionInfo{
		Recorder:    "pcmk-trace v0.3.0",
		Kernel:      "Linux 6.1.0-18-amd64",
		Hardware:    "amd64",
		Host:        "node1",
		CommandLine: "pcmk-trace record -w out.pcapng --service cib_rw",
		LibQB:       []string{"2.0.6 /usr/lib/x86_64-linux-gnu/libqb.so.100.0.4", "2.0.8 /proc/77/root/usr/lib64/libqb.so.100"},
		Pacemaker:   []string{"2.1.5"},
		Redacted:    "default names, name /^ipaddr$/, 1 literal values",
		Comment:     "nightly run\n\nsecond paragraph: with a colon",
	}
	// Empty recorder, kernel and hardware fields are written as their defaults.
	def := func(s SectionInfo) SectionInfo {
		s.Recorder, s.Kernel, s.Hardware = "pcmk-trace", runtime.GOOS, runtime.GOARCH
		return s
	}
	cases := []struct {
		desc string
		in   SectionInfo
		want SectionInfo
	}{
		{"every field", full, full},
		{"nothing", SectionInfo{}, def(SectionInfo{})},
		{"comment only", SectionInfo{Comment: "host: not a key here"}, def(SectionInfo{Comment: "host: not a key here"})},
		{"comment starting with a blank line", SectionInfo{Host: "h", Comment: "\nx"}, def(SectionInfo{Host: "h", Comment: "\nx"})},
		{"line breaks in one-line fields", SectionInfo{Host: "a\nb", CommandLine: "x\r\ny"}, def(SectionInfo{Host: "a b", CommandLine: "x y"})},
	}
	for _, c := range cases {
		opts := WriterOptions{Section: c.in}
		var buf bytes.Buffer
		w, err := NewWriter(&buf, opts)
		if err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		if err := w.Close(); err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		r, err := NewReader(&buf)
		if err != nil {
			t.Fatalf("%s: %v", c.desc, err)
		}
		if got := r.Section(); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.desc, got, c.want)
		}
	}
}

// TestSectionForeignComment reads a section comment another tool wrote.
func TestSectionForeignComment(t *testing.T) {
	cases := []struct {
		desc    string
		comment string
		want    SectionInfo
	}{
		{"plain text", "merged by hand", SectionInfo{Comment: "merged by hand"}},
		{"unknown key before ours", "tool: x\nhost: n1\n\nrest", SectionInfo{Host: "n1", Comment: "tool: x\n\nrest"}},
	}
	for _, c := range cases {
		var s SectionInfo
		s.parseComment(c.comment)
		if !reflect.DeepEqual(s, c.want) {
			t.Errorf("%s:\n got %#v\nwant %#v", c.desc, s, c.want)
		}
	}
}

// TestSectionStandardOptions checks that other tools see recorder, kernel
// and hardware in the standard options.
func TestSectionStandardOptions(t *testing.T) {
	var opts WriterOptions
	opts.Section.Recorder = "pcmk-trace v1"
	opts.Section.Kernel = "Linux 6.1"
	opts.Section.Host = "node7"
	file := writeFileOpts(t, opts)
	ng, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	s := ng.SectionInfo()
	if s.Application != "pcmk-trace v1" || s.OS != "Linux 6.1" || s.Hardware != runtime.GOARCH ||
		!strings.Contains(s.Comment, "host: node7") {
		t.Errorf("section %+v", s)
	}
}

func TestSectionTooLong(t *testing.T) {
	var opts WriterOptions
	opts.Section.Comment = strings.Repeat("x", 70000)
	if _, err := NewWriter(new(bytes.Buffer), opts); err == nil || !strings.Contains(err.Error(), "limit") {
		t.Fatalf("got %v, want an error about the limit", err)
	}
}

func writeFileOpts(t testing.TB, opts WriterOptions, recs ...*Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, opts)
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
	return buf.Bytes()
}

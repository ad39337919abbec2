package decode

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rendering says which outputs a golden test compares.
type rendering struct {
	verbose bool // text with pretty-printed XML
	xml     bool // JSON with the "xml" key
	doc     bool // also the XML document
}

// render decodes src and formats every message as text and JSON lines
// (and an XML document with r.doc). A final source error ends the text
// output with an "error:" line.
func render(t *testing.T, src RecordSource, opts Options, r rendering) (text, jsonl, doc []byte, msgs []*Message, st Stats) {
	t.Helper()
	var tb, jb, xb bytes.Buffer
	tf := NewTextFormatter(&tb)
	tf.Location, tf.Verbose = time.UTC, r.verbose
	jf := NewJSONFormatter(&jb)
	jf.OmitXML = !r.xml
	xf := NewXMLFormatter(&xb)
	rd := NewReader(src, opts)
	for {
		m, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			tf.Flush()
			tb.WriteString("error: " + err.Error() + "\n")
			break
		}
		msgs = append(msgs, m)
		for _, f := range []Formatter{tf, jf, xf} {
			if err := f.Format(m); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, f := range []Formatter{tf, jf, xf} {
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if r.doc {
		doc = xb.Bytes()
	}
	return tb.Bytes(), jb.Bytes(), doc, msgs, rd.Stats()
}

// checkGolden compares got with the golden file at path, or rewrites the
// file when the test runs with -update.
func checkGolden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		gl, wl := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
		for i := 0; i < max(len(gl), len(wl)); i++ {
			var g, w string
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\ngot:  %.300s\nwant: %.300s\n(run go test -update if the change is intended)", path, i+1, g, w)
			}
		}
	}
}

// TestGoldenGenerated pins the text and JSON output of every generated
// scenario, in testdata/golden/<scenario>.txt and .jsonl (JSON without the
// XML, which the conversation tests check). One small scenario is also
// pinned with its XML, pretty-printed, and as an XML document.
func TestGoldenGenerated(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.desc, func(t *testing.T) {
			g := newGen(t)
			sc.build(g)
			var opts Options
			opts.Lifecycle = true
			full := sc.name == "a-cibadmin-query"
			text, jsonl, doc, _, _ := render(t, &sliceSource{recs: g.recs}, opts, rendering{verbose: full, xml: full, doc: full})
			stem := filepath.Join("testdata", "golden", sc.name)
			checkGolden(t, stem+".txt", text)
			checkGolden(t, stem+".jsonl", jsonl)
			if full {
				checkGolden(t, stem+".xml", doc)
			}
		})
	}
}

// captureDir holds real captures: <case>.pcapng with <case>.golden (text)
// and <case>.json.golden (JSON lines without XML) next to it; broken files
// are named fail-<case>.pcapng. See its README for how each was recorded.
var captureDir = filepath.Join("..", "testdata", "captures")

// TestGoldenCaptures decodes every capture in captureDir. Besides the
// golden output, a capture not named fail-* must decode without an error,
// name every operation and pair every request that expects a reply.
func TestGoldenCaptures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(captureDir, "*.pcapng"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Skipf("no captures in %s", captureDir)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".pcapng")
		t.Run(name, func(t *testing.T) { goldenCapture(t, path) })
	}
}

func goldenCapture(t *testing.T, path string) {
	stem := strings.TrimSuffix(path, ".pcapng")
	failCase := strings.HasPrefix(filepath.Base(stem), "fail-")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr, err := capfile.NewReader(bufio.NewReader(f))
	if err != nil {
		if !failCase {
			t.Fatal(err)
		}
		checkGolden(t, stem+".golden", []byte("error: "+err.Error()+"\n"))
		return
	}
	text, jsonl, _, msgs, st := render(t, cr, Options{}, rendering{})
	checkGolden(t, stem+".golden", text)
	checkGolden(t, stem+".json.golden", jsonl)
	if failCase {
		if st.Errors == 0 && !bytes.Contains(text, []byte("\nerror: ")) && !bytes.HasPrefix(text, []byte("error: ")) {
			t.Errorf("%s decodes without an error", path)
		}
		return
	}
	checkWants(t, msgs, nil)
	for _, m := range msgs {
		var fe *FormatError
		if m.Kind == KindInvalid || errors.As(m.Err, &fe) {
			t.Errorf("seq %d: %v", m.Seq, m.Err)
		}
	}
}

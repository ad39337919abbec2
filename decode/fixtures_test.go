package decode

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"testing"
)

var writeFixtures = flag.Bool("fixtures", false, "rewrite the bzip2 fixtures and the fuzz seed corpus in testdata (needs the bzip2 tool)")

// TestWriteFixtures makes the compressed fixtures the way Pacemaker
// compresses (bzip2 block size 4, docs/protocol.md 6.6): go test -run
// TestWriteFixtures -fixtures. It needs the bzip2 command.
func TestWriteFixtures(t *testing.T) {
	if !*writeFixtures {
		t.Skip("run with -fixtures to rewrite testdata/*.bz2")
	}
	for _, f := range []struct {
		name string
		data []byte
	}{
		{fixtureReply, append([]byte(bigCIB(2, 192100)), 0)},
		{fixtureRequest, append([]byte(xmlCibCreate(580788)), 0)},
		{fixtureBomb, make([]byte, 100_000_000)},
		{fixtureNoNUL, []byte("<a/>")},
	} {
		cmd := exec.Command("bzip2", "-4", "-c")
		cmd.Stdin = bytes.NewReader(f.data)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("bzip2 %s: %v", f.name, err)
		}
		if err := os.WriteFile(f.name, out, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d -> %d bytes", f.name, len(f.data), len(out))
	}
	writeFuzzCorpus(t)
}

// TestFixtures checks that the fixtures hold what the generator expects.
func TestFixtures(t *testing.T) {
	for _, tc := range []struct {
		desc string
		name string
		want string
	}{
		{"compressed CIB query reply", fixtureReply, bigCIB(2, 192100)},
		{"compressed cib_create request", fixtureRequest, xmlCibCreate(580788)},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := loadFixture(t, tc.name).text; got != tc.want {
				t.Errorf("%s: %d bytes, want %d bytes of generated XML; rerun with -fixtures", tc.name, len(got), len(tc.want))
			}
		})
	}
}

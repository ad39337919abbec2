package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestRedactCommand(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "captures", "sid-big-cib.pcapng")
	orig, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(orig, []byte("node1")) {
		t.Fatal("the capture does not hold the test's secret")
	}
	out := filepath.Join(t.TempDir(), "out.pcapng")
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"redact", in, "-w", out, "--redact-value", "node1"}, &stdout, &stderr); err != nil {
		t.Fatalf("redact: %v\n%s", err, stderr.String())
	}
	if after, _ := os.ReadFile(in); !bytes.Equal(after, orig) {
		t.Error("the input changed")
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("output mode %v, want 0600", fi.Mode().Perm())
	}
	red, _ := os.ReadFile(out)
	if bytes.Contains(red, []byte("node1")) {
		t.Error("node1 still in the output file")
	}
	if !strings.Contains(stderr.String(), "multipart") {
		t.Errorf("summary %q", stderr.String())
	}

	// decode: no errors, the same messages, and it says the capture is redacted
	decodeText := func(file string) []string {
		var o, e bytes.Buffer
		if err := run(context.Background(), []string{"decode", file}, &o, &e); err != nil {
			t.Fatalf("decode %s: %v\n%s", file, err, e.String())
		}
		return strings.Split(strings.TrimSpace(o.String()), "\n")
	}
	before, after := decodeText(in), decodeText(out)
	if !strings.HasPrefix(after[0], "# redacted capture (default names, 1 literal values)") {
		t.Errorf("first line %q", after[0])
	}
	after = after[1:]
	if len(after) != len(before) {
		t.Fatalf("%d messages decoded, %d before", len(after), len(before))
	}
	for i := range before {
		// the one-line summaries hold no attribute values: redaction changes none
		if before[i] != after[i] {
			t.Errorf("line %d: %q, before %q", i, after[i], before[i])
		}
	}
}

func TestRedactArgs(t *testing.T) {
	in := filepath.Join("..", "..", "testdata", "captures", "bookworm-socket.pcapng")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"redact", in}, "want -w OUT"},
		{[]string{"redact", in, "-w", in}, "overwrite the input"},
		{[]string{"redact", in, "-w", "x", "--redact-name", "("}, "redact name pattern"},
	} {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), tc.args, &stdout, &stderr)
		var ec exitCode
		if !errors.As(err, &ec) || ec.code != 2 || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%v: %v, %q; want exit 2 with %q", tc.args, err, stderr.String(), tc.want)
		}
	}
}

func TestRedactFlags(t *testing.T) {
	o, err := parseRecord([]string{"--redact-value", "a,b", "--redact-value=c", "--redact-name", `^x{1,2}$`}, &bytes.Buffer{}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !o.redact {
		t.Error("--redact-value did not turn on --redact")
	}
	if !reflect.DeepEqual(o.rf.values, []string{"a,b", "c"}) || !reflect.DeepEqual(o.rf.names, []string{`^x{1,2}$`}) {
		t.Errorf("values %q, names %q", o.rf.values, o.rf.names)
	}
	got := hideValues([]string{"-w", "f", "--redact-value", "s3cret", "--redact-value=other", "--redact"})
	want := []string{"-w", "f", "--redact-value", "***", "--redact-value=***", "--redact"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("hideValues = %q, want %q", got, want)
	}
}

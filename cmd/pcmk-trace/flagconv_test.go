package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// parsers parse a command's arguments into its options, without running it.
var parsers = map[string]func(args []string, stdout, stderr io.Writer) (any, error){
	"record": func(args []string, stdout, stderr io.Writer) (any, error) { return parseRecord(args, stdout, stderr) },
	"decode": func(args []string, stdout, stderr io.Writer) (any, error) { return parseDecode(args, stdout, stderr) },
	"replay": func(args []string, stdout, stderr io.Writer) (any, error) { return parseReplay(args, stdout, stderr) },
	"flow":   func(args []string, stdout, stderr io.Writer) (any, error) { return parseFlow(args, stdout, stderr) },
	"stats":  func(args []string, stdout, stderr io.Writer) (any, error) { return parseStats(args, stdout, stderr) },
}

// Every list flag of every command takes its values by repetition, as one
// comma-separated list, or both, with the same result.
func TestListFlags(t *testing.T) {
	for _, tc := range []struct {
		cmd, flag string
		a, b      string
		list      func(o any) any // the flag's parsed list
	}{
		{"record", "service", "cib_rw", "cib_ro", func(o any) any { return o.(*recordOptions).services }},
		{"record", "comm", "cibadmin", "crm_mon", func(o any) any { return o.(*recordOptions).comms }},
		{"record", "pid", "1", "4294967295", func(o any) any { return o.(*recordOptions).pids }},
		{"record", "ns-of", "1", "2", func(o any) any { return o.(*recordOptions).nsOf }},
		{"record", "libqb", "/a/libqb.so.100", "/b/libqb.so.100", func(o any) any { return o.(*recordOptions).libqb }},
		{"decode", "service", "cib_rw", "cib_ro", func(o any) any { return o.(*decodeOptions).opts.Filter.Services }},
		{"decode", "op", "cib_query", "ping", func(o any) any { return o.(*decodeOptions).filter.ops }},
		{"decode", "pid", "1", "2", func(o any) any { return o.(*decodeOptions).opts.Filter.PIDs }},
		{"decode", "comm", "cibadmin", "crm_mon", func(o any) any { return o.(*decodeOptions).opts.Filter.Comms }},
		{"decode", "channel", "request", "event", func(o any) any { return o.(*decodeOptions).opts.Filter.Channels }},
		{"flow", "service", "cib_rw", "cib_ro", func(o any) any { return o.(*flowOptions).opts.Filter.Services }},
		{"flow", "op", "cib_query", "ping", func(o any) any { return o.(*flowOptions).filter.ops }},
		{"flow", "pid", "1", "2", func(o any) any { return o.(*flowOptions).opts.Filter.PIDs }},
		{"flow", "comm", "cibadmin", "crm_mon", func(o any) any { return o.(*flowOptions).opts.Filter.Comms }},
		{"stats", "service", "cib_rw", "cib_ro", func(o any) any { return o.(*statsOptions).opts.Filter.Services }},
		{"stats", "table", "ops", "clients", func(o any) any { return o.(*statsOptions).tables }},
		{"stats", "comm", "cibadmin", "crm_mon", func(o any) any { return o.(*statsOptions).opts.Filter.Comms }},
		{"replay", "service", "cib_rw", "cib_ro", func(o any) any { return o.(*replayOptions).opts.Services }},
		{"replay", "op", "cib_query", "ping", func(o any) any { return o.(*replayOptions).opts.Ops }},
		{"replay", "pid", "1", "2", func(o any) any { return o.(*replayOptions).opts.PIDs }},
		{"replay", "conn", "qb-1-2-3-a", "qb-4-5-6-b", func(o any) any { return o.(*replayOptions).opts.Conns }},
		{"replay", "mask", "cib_callid", "crm_feature_set", func(o any) any { return o.(*replayOptions).masks }},
		{"replay", "mask-element", "status", "nodes", func(o any) any { return o.(*replayOptions).maskElements }},
	} {
		t.Run(tc.cmd+"/"+tc.flag, func(t *testing.T) {
			var file []string
			if tc.cmd != "record" {
				file = []string{"capture.pcapng"}
			}
			flag := "--" + tc.flag
			forms := [][]string{
				{flag, tc.a, flag, tc.b},
				{flag, tc.a + "," + tc.b},
				{flag + "=" + tc.a + "," + tc.b},
				{flag, tc.a + ", " + tc.b},
			}
			var first any
			for i, args := range forms {
				o, err := parsers[tc.cmd](append(args, file...), io.Discard, io.Discard)
				if err != nil {
					t.Fatalf("%q: %v", args, err)
				}
				if n := reflect.ValueOf(tc.list(o)).Len(); n != 2 {
					t.Fatalf("%q: %d values, want 2", args, n)
				}
				if i == 0 {
					first = o
				} else if !reflect.DeepEqual(o, first) {
					t.Errorf("%q: options differ from those of %q:\n%+v\n%+v", args, forms[0], o, first)
				}
			}
			if _, err := parsers[tc.cmd](append([]string{flag, tc.a + ","}, file...), io.Discard, io.Discard); err == nil {
				t.Errorf("an empty value in %s %s, was taken", flag, tc.a)
			}
		})
	}
}

// An unknown service is a usage error naming the known ones, found before
// any file is opened. record, whose filter works on any libqb service, warns.
func TestUnknownService(t *testing.T) {
	var errOut bytes.Buffer
	if _, err := parseRecord([]string{"--service", "cib_rw,cib-rw"}, io.Discard, &errOut); err != nil {
		t.Errorf("record: %v", err)
	}
	if w := errOut.String(); !strings.Contains(w, "warning") || !strings.Contains(w, `"cib-rw"`) || !strings.Contains(w, "stonith-ng") {
		t.Errorf("record: warning %q", w)
	}
	missing := filepath.Join(t.TempDir(), "none.pcapng")
	for _, args := range [][]string{
		{"decode", "--service", "cib-rw", missing},
		{"flow", "--service", "cib-rw", missing},
		{"stats", "--service", "cib-rw", missing},
		{"replay", "--service", "cib_rw", "--service", "cib-rw", missing},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut)
		var ec exitCode
		if !errors.As(err, &ec) || ec.code != 2 {
			t.Errorf("%q: %v, want exit status 2", args, err)
			continue
		}
		for _, want := range []string{`"cib-rw"`, "cib_rw", "cib_ro", "stonith-ng", args[0] + ":"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%q: %q lacks %s", args, err, want)
			}
		}
	}
}

// -h and --help print the usage to standard output and exit 0, for every command.
func TestHelpToStdout(t *testing.T) {
	for _, args := range [][]string{
		{"-h"}, {"--help"}, {"record", "-h"}, {"record", "--help"}, {"decode", "-h"}, {"decode", "--help"},
		{"replay", "-h"}, {"replay", "--help", "--speed", "2"}, {"flow", "-h"}, {"stats", "-h"},
	} {
		var out, errOut bytes.Buffer
		if err := run(context.Background(), args, &out, &errOut); err != nil {
			t.Errorf("%q: %v", args, err)
		}
		if !strings.Contains(out.String(), "Usage:") || errOut.Len() > 0 {
			t.Errorf("%q: standard output %q, standard error %q", args, out.String(), errOut.String())
		}
	}
	// A usage error shows the usage on standard error.
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"decode"}, &out, &errOut); err == nil {
		t.Error("decode without a file succeeded")
	}
	if out.Len() > 0 || !strings.Contains(errOut.String(), "Usage:") {
		t.Errorf("usage error: standard output %q, standard error %q", out.String(), errOut.String())
	}
}

// Every list flag's placeholder is in capitals, and every one says it takes a list.
func TestHelpPlaceholders(t *testing.T) {
	for _, cmd := range []string{"record", "decode", "replay", "flow", "stats"} {
		var out bytes.Buffer
		if err := run(context.Background(), []string{cmd, "-h"}, &out, io.Discard); err != nil {
			t.Fatal(err)
		}
		help := out.String()
		for _, want := range []string{"--service NAME ", "--pid PID "} {
			if !strings.Contains(help, want) {
				t.Errorf("%s -h lacks %q", cmd, want)
			}
		}
		for _, line := range strings.Split(help, "\n") {
			f := strings.Fields(line)
			if len(f) > 0 && strings.HasPrefix(f[0], "-") && strings.HasSuffix(f[0], ",") { // -f, --format FORMAT
				f = f[1:]
			}
			if len(f) < 2 || !strings.HasPrefix(f[0], "--") || strings.Contains(f[0], "[=") {
				continue // not a flag's line, or a boolean
			}
			if ph := f[1]; ph != strings.ToUpper(ph) {
				t.Errorf("%s -h: placeholder %q of %s is not in capitals", cmd, ph, f[0])
			}
		}
	}
}

// decode's --op gives what decode's own operation filter gives, and an
// operation no message has is warned of, with the operations seen.
func TestDecodeOp(t *testing.T) {
	const path = "../../testdata/captures/bookworm-workload.pcapng"
	got, stderr, err := runDecodeCmd(t, "-f", "json", "--op", "cib_query,ping", path)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	if want := sequentialJSONFiltered(t, path, decode.Filter{Ops: []string{"cib_query", "ping"}}); got != want || got == "" {
		t.Errorf("--op output differs from decode's filter (%d vs %d bytes)", len(got), len(want))
	}
	if stderr != "" {
		t.Errorf("operations seen were warned of: %s", stderr)
	}
	got, stderr, err = runDecodeCmd(t, "-f", "json", "--op", "cib_qeury", path)
	if err != nil || got != "" {
		t.Fatalf("unknown op: %v, output %q", err, got)
	}
	if !strings.Contains(stderr, `warning`) || !strings.Contains(stderr, `"cib_qeury"`) || !strings.Contains(stderr, "cib_query") {
		t.Errorf("unknown op: stderr %q", stderr)
	}
}

func TestReplayUnknownOp(t *testing.T) {
	file := writeReplayCapture(t)
	var out, errOut bytes.Buffer
	err := run(context.Background(), []string{"replay", "--dry-run", "--op", "cib_qeury", file}, &out, &errOut)
	if err != nil {
		t.Fatal(err)
	}
	if want := `no operation "cib_qeury"; seen: cib_modify, cib_query, register`; !strings.Contains(errOut.String(), want) {
		t.Errorf("stderr %q lacks %q", errOut.String(), want)
	}
}

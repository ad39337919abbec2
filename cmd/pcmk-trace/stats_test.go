package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runStatsCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	err = run(context.Background(), append([]string{"stats"}, args...), &o, &e)
	return o.String(), e.String(), err
}

// The command prints, in each format, what analyse's golden tests pin for
// every regression capture.
func TestStatsCommandMatchesGolden(t *testing.T) {
	paths, _ := filepath.Glob("../../testdata/captures/*.pcapng")
	if len(paths) == 0 {
		t.Fatal("no captures in testdata/captures")
	}
	for _, p := range paths {
		t.Run(filepath.Base(p), func(t *testing.T) {
			stem := strings.TrimSuffix(p, ".pcapng") + ".stats"
			for _, f := range []struct {
				args   []string
				golden string
			}{
				{[]string{"--utc"}, stem + ".golden"},
				{[]string{"-f", "json"}, stem + ".json.golden"},
				{[]string{"-f", "csv"}, stem + ".csv.golden"},
			} {
				got, stderr, err := runStatsCmd(t, append(f.args, p)...)
				if err != nil {
					t.Fatalf("%v: %v; stderr: %s", f.args, err, stderr)
				}
				want, err := os.ReadFile(f.golden)
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("%v: output differs from %s", f.args, f.golden)
				}
			}
		})
	}
}

func TestStatsTablesAndFilters(t *testing.T) {
	p := "../../testdata/captures/bookworm-workload.pcapng"
	out, stderr, err := runStatsCmd(t, "-f", "json", "--table", "ops,clients", "--service", "attrd", p)
	if err != nil {
		t.Fatalf("%v; stderr: %s", err, stderr)
	}
	tables := map[string]int{}
	for line := range strings.Lines(out) {
		var row struct {
			Table   string
			Service string
		}
		if err := json.Unmarshal([]byte(line), &row); err != nil {
			t.Fatal(err)
		}
		tables[row.Table]++
		if row.Service != "attrd" {
			t.Errorf("--service attrd printed %s", line)
		}
	}
	if len(tables) != 2 || tables["ops"] == 0 || tables["clients"] == 0 {
		t.Errorf("--table ops,clients printed rows of %v", tables)
	}

	for _, args := range [][]string{
		{"--table", "nope", p},
		{"-f", "yaml", p},
		{"--interval", "0s", p},
		{"--since", "yesterday", p},
	} {
		_, _, err := runStatsCmd(t, args...)
		var ec exitCode
		if !errors.As(err, &ec) || ec.code != 2 {
			t.Errorf("%v: %v, want exit status 2", args, err)
		}
	}
}

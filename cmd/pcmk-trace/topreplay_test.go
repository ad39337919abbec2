package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"
)

// topJSONLine is any line of top -f json: a header, an operation or a connection.
type topJSONLine struct {
	Time       time.Time `json:"time"`
	IntervalNS int64     `json:"interval_ns"`
	Messages   *uint64   `json:"messages"`
	Bytes      uint64    `json:"bytes"`
	Lost       *uint64   `json:"lost"`
	Service    string    `json:"service"`
	Op         string    `json:"op"`
	Requests   uint64    `json:"requests"`
	RatePerS   float64   `json:"requests_per_s"`
	Total      uint64    `json:"total"`
	P50        int64     `json:"p50_ns"`
	InFlight   uint64    `json:"in_flight"`
}

func parseTopJSON(t *testing.T, out []byte) []topJSONLine {
	t.Helper()
	var lines []topJSONLine
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var l topJSONLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("%v: %s", err, sc.Bytes())
		}
		lines = append(lines, l)
	}
	return lines
}

// TestTopReplayAgreesWithStats plays captures through top --batch as fast as
// possible: every interval's messages and bytes are those of stats' rate
// table, and the last interval's totals are stats' ops table.
func TestTopReplayAgreesWithStats(t *testing.T) {
	for _, name := range []string{"bookworm-workload", "bookworm-big-cib"} {
		t.Run(name, func(t *testing.T) {
			file := "../../testdata/captures/" + name + ".pcapng"
			var out, errOut bytes.Buffer
			if err := run(context.Background(), []string{"top", "--batch", "-f", "json", "--speed", "0", file}, &out, &errOut); err != nil {
				t.Fatalf("top: %v\n%s", err, errOut.String())
			}
			lines := parseTopJSON(t, out.Bytes())

			type cell struct{ messages, bytes uint64 }
			stats := map[time.Time]cell{}
			totals := map[[2]string]uint64{}
			var sout bytes.Buffer
			if err := run(context.Background(), []string{"stats", "--table", "rate", "--table", "ops", "-f", "json", file}, &sout, &errOut); err != nil {
				t.Fatalf("stats: %v\n%s", err, errOut.String())
			}
			sc := bufio.NewScanner(&sout)
			for sc.Scan() {
				var r struct {
					Table    string    `json:"table"`
					Time     time.Time `json:"time"`
					Service  string    `json:"service"`
					Op       string    `json:"op"`
					Messages uint64    `json:"messages"`
					Bytes    uint64    `json:"bytes"`
					Requests uint64    `json:"requests"`
				}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatal(err)
				}
				switch r.Table {
				case "rate":
					c := stats[r.Time]
					stats[r.Time] = cell{c.messages + r.Messages, c.bytes + r.Bytes}
				case "ops":
					totals[[2]string{r.Service, r.Op}] = r.Requests
				}
			}

			headers := 0
			last := map[[2]string]uint64{}
			for _, l := range lines {
				if l.Messages == nil {
					if l.Op != "" {
						last[[2]string{l.Service, l.Op}] = l.Total
					}
					continue
				}
				if l.Lost == nil {
					t.Errorf("header without lost: %+v", l)
				}
				headers++
				start := l.Time.Add(-time.Duration(l.IntervalNS))
				want := stats[start]
				if *l.Messages != want.messages || l.Bytes != want.bytes {
					t.Errorf("interval %v: top %d messages %d bytes, stats %d, %d", start, *l.Messages, l.Bytes, want.messages, want.bytes)
				}
				delete(stats, start)
			}
			if headers < 2 || len(stats) != 0 {
				t.Errorf("%d intervals; stats' intervals top did not show: %v", headers, stats)
			}
			for k, n := range totals {
				if last[k] != n {
					t.Errorf("%v: top's total %d, stats' requests %d", k, last[k], n)
				}
			}
		})
	}
}

package replay

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

func sampleReport() *Report {
	r := &Report{Conversations: 2, Loops: 1, Elapsed: time.Second, Skipped: Skipped{Daemons: 3}}
	r.Results = []Result{
		{Seq: 1, Packet: 1, Conn: "qb-1-2-3-a", Service: "cib_rw", Op: "register", Comm: "cibadmin", Class: ClassRead,
			Outcome: Matched, Sent: true, Answered: true, RecordedLatency: 90 * time.Microsecond, Latency: 50 * time.Microsecond},
		{Seq: 3, Packet: 3, Conn: "qb-1-2-3-a", Service: "cib_rw", Op: "cib_query", Comm: "cibadmin", Class: ClassRead,
			Outcome: Diverged, Sent: true, Answered: true, RecordedLatency: 2 * time.Millisecond, Latency: time.Millisecond,
			Diffs: []Diff{{Reply: "event 1", Kind: DiffChanged, Path: "/a/@x", Recorded: "1", Live: "2"}}},
		{Seq: 5, Conn: "qb-1-4-3-b", Service: "cib_rw", Op: "cib_modify", Comm: "crm_attribute", Class: ClassWrite, Outcome: Refused},
		{Seq: 7, Conn: "qb-1-5-3-c", Service: "attrd", Op: "query", Comm: "attrd_updater", Class: ClassRead,
			Outcome: Failed, Sent: true, Err: errors.New("no reply within 30s")},
	}
	r.summarize()
	return r
}

func TestReportSummary(t *testing.T) {
	r := sampleReport()
	want := Counts{Requests: 4, Sent: 3, Answered: 2, Matched: 1, Diverged: 1, Failed: 1, Refused: 1}
	if r.Totals != want {
		t.Errorf("totals %+v, want %+v", r.Totals, want)
	}
	if len(r.Ops) != 4 || r.Ops[0].Service != "attrd" || r.Ops[1].Op != "cib_modify" {
		t.Errorf("ops %+v", r.Ops)
	}
	var b bytes.Buffer
	if err := r.WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		"replay: 4 requests on 2 connections in 1.00s (1 loop); left out: 3 connections of daemons (--all-clients)",
		"diverged: cib_rw cib_query from cibadmin (connection qb-1-2-3-a, packet 3, +0.000s)",
		`  event 1: ~ /a/@x: recorded "1", live "2"`,
		"failed: attrd query from attrd_updater",
		"  no reply within 30s",
		"refused 1 write (not sent); --allow-writes sends them",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("text report lacks %q:\n%s", s, b.String())
		}
	}
	if strings.Contains(b.String(), "matched: cib_rw register") {
		t.Errorf("matched requests listed without Verbose:\n%s", b.String())
	}
}

func TestPercentiles(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	if p := percentiles(ds); p.N != 100 || p.P50 != 50 || p.P99 != 99 {
		t.Errorf("%+v", p)
	}
	if p := percentiles([]time.Duration{7}); p.P50 != 7 || p.P99 != 7 {
		t.Errorf("%+v", p)
	}
	if p := percentiles(nil); p.N != 0 {
		t.Errorf("%+v", p)
	}
}

// TestReportJSONDocumented fails when the JSON report has a key JSON.md does not list.
func TestReportJSONDocumented(t *testing.T) {
	doc, err := os.ReadFile("JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := sampleReport().WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				keys[k] = true
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile("`([a-z_0-9]+)`").FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]] = true
	}
	for k := range keys {
		if !documented[k] {
			t.Errorf("JSON.md does not document key %q", k)
		}
	}
}

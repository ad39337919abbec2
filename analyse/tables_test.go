package analyse

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

func TestRateHalves(t *testing.T) {
	var c conv
	for i := range 10 {
		c.request(time.Duration(i)*time.Second, "cib_query", false, 10)
	}
	a := c.aggregate(Config{Interval: time.Second, MaxIntervals: 4})
	rows := a.Rates()
	// 10 seconds in at most 4 intervals: 4 s wide, 3 rows of 4, 4 and 2.
	if a.Interval() != 4*time.Second || len(rows) != 3 {
		t.Fatalf("interval %v, rows %+v", a.Interval(), rows)
	}
	for i, want := range []uint64{4, 4, 2} {
		if rows[i].Messages != want || !rows[i].Time.Equal(t0.Add(time.Duration(i)*4*time.Second)) {
			t.Errorf("row %d: %+v, want %d messages", i, rows[i], want)
		}
	}
}

func TestSizesAndLargest(t *testing.T) {
	var c conv
	for _, size := range []int{0, 1, 100, 128, 200 << 10, 300, 300} {
		m := c.request(0, "cib_modify", false, size)
		m.Parts = 1
		if size > BufferSize {
			m.Parts, m.Compressed = 2, true
		}
	}
	a := c.aggregate(Config{Largest: 3})
	s := a.Sizes()
	if len(s) != 1 || s[0].Messages != 7 || s[0].OverBuffer != 1 || s[0].Compressed != 1 || s[0].Multipart != 1 || s[0].Max != 200<<10 {
		t.Errorf("sizes: %+v", s)
	}
	var got []string
	for _, b := range a.SizeBuckets() {
		got = append(got, fmt.Sprintf("%d-%d:%d", b.From, b.To, b.Messages))
	}
	if want := []string{"0-1:1", "1-2:1", "64-128:1", "128-256:1", "256-512:2", "131072-262144:1"}; !slices.Equal(got, want) {
		t.Errorf("buckets %v, want %v", got, want)
	}
	var seqs []uint64
	for _, l := range a.LargestMessages() {
		seqs = append(seqs, l.Seq)
	}
	if want := []uint64{5, 6, 7}; !slices.Equal(seqs, want) {
		t.Errorf("largest seqs %v, want %v (largest first, earlier first on a tie)", seqs, want)
	}
}

func notifyXML(op, version string) []byte {
	return fmt.Appendf(nil, `<notify t="cib_notify" subt="cib_diff_notify" cib_op="%s" cib_rc="0"><cib_update_result><diff format="2">`+
		`<version><source admin_epoch="0" epoch="6" num_updates="4"/><target admin_epoch="0" %s/></version></diff></cib_update_result></notify>`, op, version)
}

func TestFanout(t *testing.T) {
	var c conv
	notify := func(at time.Duration, pid uint32, xml []byte) {
		c.add(&decode.Message{Time: t0.Add(at), ClientPID: pid, Channel: capfile.ChannelEvent, Role: decode.RoleNotification,
			Op: "cib_diff_notify", Size: len(xml) + 40, XML: xml})
	}
	a1 := notifyXML("cib_modify", `epoch="7" num_updates="0"`)
	a2 := notifyXML("cib_delete", `num_updates='1' epoch='7'`)
	for pid := range uint32(3) {
		notify(0, 10+pid, a1)
	}
	notify(time.Millisecond, 10, a2)
	notify(time.Millisecond, 11, a2)
	notify(2*time.Millisecond, 10, []byte("<notify/>")) // no version
	a := c.aggregate(Config{})
	var got []string
	for _, f := range a.Fanouts() {
		got = append(got, fmt.Sprintf("%s %s #%d %d %d", f.Version, f.CIBOp, f.FirstSeq, f.Notifications, f.Bytes))
	}
	want := []string{
		fmt.Sprintf("0.7.0 cib_modify #1 3 %d", 3*(len(a1)+40)),
		fmt.Sprintf("0.7.1 cib_delete #4 2 %d", 2*(len(a2)+40)),
		"  #6 1 49",
	}
	if !slices.Equal(got, want) {
		t.Errorf("fanout\n got %q\nwant %q", got, want)
	}
	if tot := a.FanoutTotals(); tot.Changes != 3 || tot.Notifications != 6 || tot.MaxNotifications != 3 {
		t.Errorf("totals: %+v", tot)
	}
	// Only the changes with the most bytes are kept.
	a = c.aggregate(Config{FanoutChanges: 1})
	if f := a.Fanouts(); len(f) != 1 || f[0].Version != "0.7.0" || a.FanoutTotals().Changes != 3 {
		t.Errorf("kept %+v", f)
	}
}

func TestLoss(t *testing.T) {
	a := New(Config{})
	a.Add(&decode.Message{Kind: decode.KindLoss, Lost: 7, Cause: capfile.LossRingFull})
	a.Add(&decode.Message{Kind: decode.KindLoss, Lost: 3, Cause: capfile.LossRingFull})
	a.Add(&decode.Message{Kind: decode.KindMessage, Truncated: true, Size: 10, Service: "cib_rw"})
	a.Add(&decode.Message{Kind: decode.KindInvalid})
	var got []string
	for _, l := range a.Losses() {
		got = append(got, fmt.Sprintf("%s %d %d", l.Cause, l.Records, l.Messages))
	}
	if want := []string{"invalid 1 0", "ring_full 2 10", "truncated 1 1"}; !slices.Equal(got, want) {
		t.Errorf("losses %q, want %q", got, want)
	}
}

// TestJSONKeysDocumented checks that JSON.md lists, for every table, the
// keys WriteJSON writes for its rows, in order, and nothing more.
func TestJSONKeysDocumented(t *testing.T) {
	doc, err := os.ReadFile("JSON.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string][]string{}
	table := ""
	heading := regexp.MustCompile("^## `([a-z_]+)`")
	key := regexp.MustCompile("^\\| `([a-z_0-9]+)` \\|")
	for line := range bytes.Lines(doc) {
		if m := heading.FindSubmatch(line); m != nil {
			table = string(m[1])
		} else if m := key.FindSubmatch(line); m != nil && table != "" {
			documented[table] = append(documented[table], string(m[1]))
		}
	}
	// A row in every table, so every key is written.
	var c conv
	q := c.request(0, "cib_query", true, 10)
	c.reply(time.Millisecond, q, "0", 10)
	c.add(&decode.Message{Time: t0, Channel: capfile.ChannelEvent, Role: decode.RoleNotification, Op: "cib_diff_notify",
		RX: true, XML: notifyXML("cib_modify", `epoch="7" num_updates="0"`)})
	c.add(&decode.Message{Time: t0, Channel: capfile.ChannelEvent, Role: decode.RoleNotification, Op: "cib_diff_notify",
		XML: notifyXML("cib_modify", `epoch="7" num_updates="0"`)})
	c.add(&decode.Message{Kind: decode.KindLoss, Lost: 1})
	c.msgs[len(c.msgs)-1].Kind = decode.KindLoss
	tables, err := c.aggregate(Config{}).Tables()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, tables); err != nil {
		t.Fatal(err)
	}
	written := map[string][]string{}
	for line := range bytes.Lines(out.Bytes()) {
		var keys []string
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.Token() // {
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, k.(string))
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
		}
		var row struct{ Table string }
		if err := json.Unmarshal(line, &row); err != nil {
			t.Fatal(err)
		}
		if keys[0] != "table" {
			t.Errorf("row without a leading table key: %s", line)
		}
		written[row.Table] = keys[1:]
	}
	for _, tb := range tables {
		if _, ok := written[tb.Name]; !ok {
			t.Errorf("table %s: no row written", tb.Name)
		}
	}
	for name, keys := range written {
		if !slices.Equal(keys, documented[name]) {
			t.Errorf("table %s: writes keys %q, JSON.md documents %q", name, keys, documented[name])
		}
	}
	for name := range documented {
		if _, ok := written[name]; !ok {
			t.Errorf("JSON.md documents table %s, which is never written", name)
		}
	}
}

package merge

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

var epoch = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// simulate returns the anchors three nodes would record when every node multicasts now and
// then and corosync delivers each message everywhere after 100-900 µs, with node clocks
// off by skew (a node's clock reads true time + skew).
func simulate(skew []time.Duration, perNode int, seed uint64) [][]Anchor {
	rng := rand.New(rand.NewPCG(seed, 1))
	nodes := make([][]Anchor, len(skew))
	var sum uint64
	for k := range perNode * len(skew) {
		from := k % len(skew)
		sent := epoch.Add(time.Duration(k) * 10 * time.Millisecond)
		sum++
		nodes[from] = append(nodes[from], Anchor{Sum: sum, Time: sent.Add(skew[from]), Send: true})
		for to := range skew {
			d := 100*time.Microsecond + time.Duration(rng.IntN(800))*time.Microsecond
			nodes[to] = append(nodes[to], Anchor{Sum: sum, Time: sent.Add(d).Add(skew[to])})
		}
	}
	return nodes
}

// TestEstimateOffsets recovers known skews within the estimate's own uncertainty, which is
// at most the delivery delay.
func TestEstimateOffsets(t *testing.T) {
	skew := []time.Duration{0, 300 * time.Millisecond, -42 * time.Millisecond}
	offs := EstimateOffsets(simulate(skew, 50, 1))
	for i, o := range offs {
		want := -skew[i]
		if !o.Known || o.Error < 0 || o.Error > time.Millisecond {
			t.Errorf("node %d: %+v: want a two-sided estimate within 1 ms", i, o)
		}
		if diff := (o.Offset - want).Abs(); diff > o.Error || diff > 500*time.Microsecond {
			t.Errorf("node %d: offset %s ± %s, want %s", i, o.Offset, o.Error, want)
		}
	}
	if offs[0].Offset != 0 || offs[0].Error != 0 {
		t.Errorf("reference node: %+v", offs[0])
	}
}

// TestEstimateOneSided: a node that only receives gets the smallest correction that keeps
// its deliveries after their sends, marked one-sided; a node with no shared messages none.
func TestEstimateOneSided(t *testing.T) {
	nodes := simulate([]time.Duration{0, -5 * time.Millisecond}, 20, 2)
	var recvOnly []Anchor
	for _, a := range nodes[1] {
		if !a.Send {
			recvOnly = append(recvOnly, a)
		}
	}
	offs := EstimateOffsets([][]Anchor{nodes[0], recvOnly, {{Sum: 999999, Time: epoch}}})
	if o := offs[1]; !o.Known || o.Error != -1 || o.Offset < 4*time.Millisecond || o.Offset > 5*time.Millisecond {
		t.Errorf("receive-only node: %+v, want a one-sided offset of just under 5 ms", o)
	}
	if o := offs[2]; o.Known || o.Offset != 0 {
		t.Errorf("node without shared messages: %+v", o)
	}
}

// capture writes a one-node capture whose records have the given times.
func capture(t *testing.T, node string, times ...time.Duration) *capfile.Reader {
	t.Helper()
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.WriterOptions{Section: capfile.SectionInfo{Node: node}})
	if err != nil {
		t.Fatal(err)
	}
	for i, d := range times {
		data := []byte(node)
		if err := w.Write(&capfile.Record{Kind: capfile.KindMessage, Seq: uint64(100 + i), Time: epoch.Add(d), Comm: node, Data: data, OrigLen: uint32(len(data))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := capfile.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMerge: records come out in corrected time order, each on its node's interface,
// renumbered from 1.
func TestMerge(t *testing.T) {
	ms := time.Millisecond
	inputs := []Input{
		{Node: "a", Reader: capture(t, "a", 1*ms, 4*ms, 4*ms, 9*ms)},
		{Node: "b", Reader: capture(t, "b", 302*ms, 303*ms, 310*ms), Offset: -300 * ms},
		{Node: "c", Reader: capture(t, "c")},
		{Node: "d", Reader: capture(t, "d", 4*ms)},
	}
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.WriterOptions{Interfaces: []capfile.InterfaceInfo{{Node: "a"}, {Node: "b"}, {Node: "c"}, {Node: "d"}}})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	st, err := Merge(w, inputs, func(int) bool { calls++; return true })
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if st.Records != 8 {
		t.Errorf("%d records written", st.Records)
	}
	r, err := capfile.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		node string
		at   time.Duration
	}{{"a", 1 * ms}, {"b", 2 * ms}, {"b", 3 * ms}, {"a", 4 * ms}, {"a", 4 * ms}, {"d", 4 * ms}, {"a", 9 * ms}, {"b", 10 * ms}}
	for i, wr := range want {
		rec, err := r.Next()
		if err != nil {
			t.Fatal(err)
		}
		if rec.Node != wr.node || !rec.Time.Equal(epoch.Add(wr.at)) || rec.Seq != uint64(i+1) || string(rec.Data) != wr.node {
			t.Errorf("record %d: node %q at %s seq %d, want %q at %s", i, rec.Node, rec.Time.Sub(epoch), rec.Seq, wr.node, wr.at)
		}
	}
	if _, err := r.Next(); err == nil {
		t.Error("more records than merged")
	}
}

// The merged capture ends with the recorders' statistics summed when every node's
// capture has them, and without any when one was cut short (its recorder killed).
func TestMergeStats(t *testing.T) {
	ms := time.Millisecond
	withStats := func(node string, start, end time.Duration, received, dropped uint64) *capfile.Reader {
		var buf bytes.Buffer
		w, err := capfile.NewWriter(&buf, capfile.WriterOptions{Section: capfile.SectionInfo{Node: node}})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WriteStats(capfile.Stats{Start: epoch.Add(start), End: epoch.Add(end), Received: received, Dropped: dropped}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := capfile.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	merged := func(inputs []Input) (capfile.Stats, bool) {
		var buf bytes.Buffer
		w, err := capfile.NewWriter(&buf, capfile.WriterOptions{Interfaces: []capfile.InterfaceInfo{{Node: "a"}, {Node: "b"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Merge(w, inputs, nil); err != nil {
			t.Fatal(err)
		}
		w.Close()
		r, err := capfile.NewReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		for {
			if _, err := r.Next(); err != nil {
				break
			}
		}
		return r.Stats()
	}
	st, ok := merged([]Input{
		{Node: "a", Reader: withStats("a", 0, 50*ms, 10, 1)},
		{Node: "b", Reader: withStats("b", 290*ms, 400*ms, 5, 2), Offset: -300 * ms},
	})
	if !ok || st.Received != 15 || st.Dropped != 3 || !st.Start.Equal(epoch.Add(-10*ms)) || !st.End.Equal(epoch.Add(100*ms)) {
		t.Errorf("summed statistics %+v (%v), want 15 received, 3 dropped, from -10ms to 100ms", st, ok)
	}
	if _, ok := merged([]Input{{Node: "a", Reader: withStats("a", 0, 50*ms, 10, 1)}, {Node: "b", Reader: capture(t, "b")}}); ok {
		t.Error("statistics written although one node's capture had none")
	}
}

// An input cut short (its recorder killed) is merged up to its last whole block and
// reported; a progress function that says stop ends the merge with ErrStopped.
func TestMergeTruncatedAndStopped(t *testing.T) {
	var buf bytes.Buffer
	w, err := capfile.NewWriter(&buf, capfile.WriterOptions{Section: capfile.SectionInfo{Node: "a"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		data := bytes.Repeat([]byte("x"), 200)
		if err := w.Write(&capfile.Record{Kind: capfile.KindMessage, Seq: uint64(i + 1), Time: epoch.Add(time.Duration(i) * time.Millisecond), Data: data, OrigLen: 200}); err != nil {
			t.Fatal(err)
		}
	}
	w.Close()
	cut := buf.Bytes()[:buf.Len()-100] // mid-block
	open := func() *capfile.Reader {
		r, err := capfile.NewReader(bytes.NewReader(cut))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	merged := func(progress func(int) bool) (Stats, error) {
		var out bytes.Buffer
		mw, err := capfile.NewWriter(&out, capfile.WriterOptions{Interfaces: []capfile.InterfaceInfo{{Node: "a"}, {Node: "b"}}})
		if err != nil {
			t.Fatal(err)
		}
		defer mw.Close()
		return Merge(mw, []Input{{Node: "a", Reader: open()}, {Node: "b", Reader: capture(t, "b", time.Millisecond)}}, progress)
	}
	st, err := merged(nil)
	if err != nil || !st.Truncated[0] || st.Truncated[1] || st.Records < 4990 || st.Records > 5000 {
		t.Errorf("truncated input: %+v, %v", st, err)
	}
	if st, err := merged(func(int) bool { return false }); !errors.Is(err, ErrStopped) || st.Records != 4096 {
		t.Errorf("stopped: %d records, %v", st.Records, err)
	}
}

package replay

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

func runFake(t *testing.T, c *Capture, f *fakeCluster, o Options) *Report {
	t.Helper()
	o.Dial = f.dial
	if o.Timeout == 0 {
		o.Timeout = 2 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := Run(ctx, c, o)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func outcomes(rep *Report) []string {
	var out []string
	for _, r := range rep.Results {
		out = append(out, r.Op+":"+string(r.Outcome))
	}
	return out
}

// TestRunMatches replays cibadmin -Q and attrd_updater -Q against an unchanged fake
// cluster: everything matches, and the CIB client id handed out live is the one the
// query quotes.
func TestRunMatches(t *testing.T) {
	msgs := cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB)
	msgs = append(msgs,
		wire{"qb-57-85-12-bbbbbb", "attrd", "attrd_updater", capfile.ChannelRequest, 1, qbipc.FlagClientResponse,
			`<create_attrd_op t="attrd" src="attrd_updater" task="query" attr_name="X"/>`, 20 * time.Millisecond},
		wire{"qb-57-85-12-bbbbbb", "attrd", "", capfile.ChannelResponse, 1, qbipc.FlagClientResponse | qbipc.FlagServerFree,
			`<build_query_reply t="attrd" subt="query" attr_name="X"><node attr_host="node1" attr_value="5"/></build_query_reply>`, 20*time.Millisecond + 80*time.Microsecond},
	)
	c := recording(t, msgs)
	f := &fakeCluster{cib: testCIB, attrs: map[string]string{"X": "5"}}
	start := time.Now()
	rep := runFake(t, c, f, Options{})
	if got, want := outcomes(rep), []string{"register:matched", "cib_query:matched", "query:matched"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v\n%+v", got, want, rep.Results)
	}
	if el := time.Since(start); el < 20*time.Millisecond {
		t.Errorf("replay took %v; the recording spans 20 ms", el)
	}
	if !strings.Contains(f.sent[1], `cib_async_id="live-client-0001"`) {
		t.Errorf("query sent as %s: the live client id was not put in", f.sent[1])
	}
	tot := rep.Totals
	if tot.Sent != 3 || tot.Answered != 3 || tot.Matched != 3 || rep.Conversations != 2 {
		t.Errorf("totals %+v, %d conversations", tot, rep.Conversations)
	}
	for _, op := range rep.Ops {
		if op.Replayed.N != 1 || op.Recorded.N != 1 || op.Recorded.P50 <= 0 {
			t.Errorf("%s %s latencies %+v %+v", op.Service, op.Op, op.Recorded, op.Replayed)
		}
	}
	if f.dials.Load() != 2 {
		t.Errorf("%d connections, want 2", f.dials.Load())
	}
}

// TestRunDiverges changes the CIB between recording and replay: the query diverges with
// exactly the new element as its difference.
func TestRunDiverges(t *testing.T) {
	c := recording(t, cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB))
	changed := strings.Replace(testCIB, "</cluster_property_set>",
		`</cluster_property_set><cluster_property_set id="new"><nvpair id="new-p" name="p" value="1"/></cluster_property_set>`, 1)
	// also things the mask hides: a new epoch and time
	changed = strings.Replace(changed, `epoch="5"`, `epoch="6"`, 1)
	rep := runFake(t, c, &fakeCluster{cib: changed}, Options{ASAP: true})
	if got, want := outcomes(rep), []string{"register:matched", "cib_query:diverged"}; !slices.Equal(got, want) {
		t.Fatalf("outcomes %v, want %v", got, want)
	}
	d := rep.Results[1].Diffs
	if len(d) != 1 || d[0].Kind != DiffAdded || d[0].Reply != "event 1" ||
		d[0].Path != "/cib-reply/cib_calldata/cib/configuration/crm_config/cluster_property_set[@id='new']" ||
		!strings.HasPrefix(d[0].Live, `<cluster_property_set id="new">`) {
		t.Fatalf("diffs %+v", d)
	}
	var b bytes.Buffer
	if err := rep.WriteText(&b, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"diverged: cib_rw cib_query from cibadmin", "event 1: + /cib-reply/cib_calldata/cib/configuration/crm_config/cluster_property_set[@id='new']"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("text report lacks %q:\n%s", want, b.String())
		}
	}
}

// TestRunWrites: a capture holding a write is refused without AllowWrites and replayed
// with it.
func TestRunWrites(t *testing.T) {
	c := recording(t, crmAttributeSet("qb-54-90-12-cccccc", 0, "rec-client-0002"))
	f := &fakeCluster{cib: testCIB}
	rep := runFake(t, c, f, Options{ASAP: true})
	if got, want := outcomes(rep), []string{"register:matched", "cib_modify:refused"}; !slices.Equal(got, want) {
		t.Fatalf("without --allow-writes: %v, want %v", got, want)
	}
	if len(f.sent) != 1 || strings.Contains(f.cib, `name="p"`) {
		t.Fatalf("sent %v; CIB %s", f.sent, f.cib)
	}
	rep = runFake(t, c, f, Options{ASAP: true, AllowWrites: true})
	if got, want := outcomes(rep), []string{"register:matched", "cib_modify:matched"}; !slices.Equal(got, want) {
		t.Fatalf("with --allow-writes: %v, want %v", got, want)
	}
	if !strings.Contains(f.cib, `name="p" value="1"`) {
		t.Fatalf("the write did not reach the CIB: %s", f.cib)
	}
}

func TestRunFailures(t *testing.T) {
	c := recording(t, cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB))

	rep := runFake(t, c, &fakeCluster{cib: testCIB, silent: true}, Options{ASAP: true, Timeout: 100 * time.Millisecond})
	if got, want := outcomes(rep), []string{"register:failed", "cib_query:failed"}; !slices.Equal(got, want) {
		t.Fatalf("silent daemon: %v, want %v", got, want)
	}
	if err := rep.Results[0].Err; !errors.Is(err, errNoReply) || rep.Results[0].Answered || !rep.Results[0].Sent {
		t.Errorf("silent daemon: %+v", rep.Results[0])
	}

	f := &fakeCluster{dialErr: errors.New("connection refused")}
	rep = runFake(t, c, f, Options{ASAP: true})
	if got, want := outcomes(rep), []string{"register:failed", "cib_query:failed"}; !slices.Equal(got, want) {
		t.Fatalf("no daemon: %v, want %v", got, want)
	}
	if f.dials.Load() != 1 || rep.Totals.Sent != 0 || !strings.Contains(rep.Results[1].Err.Error(), "connection refused") {
		t.Errorf("no daemon: %d dials, %+v", f.dials.Load(), rep.Results)
	}
}

// TestRunLoopAndSpeed replays twice at double speed: new connections each time, and
// the recorded 40 ms gap takes about 20 ms.
func TestRunLoopAndSpeed(t *testing.T) {
	msgs := cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB)
	msgs = append(msgs, cibadminQuery("qb-54-82-12-dddddd", 40*time.Millisecond, "rec-client-0003", testCIB)...)
	c := recording(t, msgs)
	f := &fakeCluster{cib: testCIB}
	var progress []int
	start := time.Now()
	rep := runFake(t, c, f, Options{Speed: 2, Loop: 2, Progress: func(done, total int) {
		if total != 8 {
			t.Errorf("progress total %d", total)
		}
		progress = append(progress, done)
	}})
	el := time.Since(start)
	if rep.Totals.Matched != 8 || f.dials.Load() != 4 || len(progress) != 8 || progress[7] != 8 {
		t.Fatalf("totals %+v, %d dials, progress %v", rep.Totals, f.dials.Load(), progress)
	}
	if el < 40*time.Millisecond || el > 2*time.Second {
		t.Errorf("two loops of a 40 ms recording at speed 2 took %v", el)
	}
	if rep.Results[4].Loop != 1 {
		t.Errorf("loop of result 4: %d", rep.Results[4].Loop)
	}
}

func TestRunCancel(t *testing.T) {
	msgs := cibadminQuery("qb-54-81-12-aaaaaa", 0, "rec-client-0001", testCIB)
	msgs = append(msgs, cibadminQuery("qb-54-82-12-dddddd", time.Hour, "rec-client-0003", testCIB)...)
	c := recording(t, msgs)
	f := &fakeCluster{cib: testCIB}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	rep, err := Run(ctx, c, Options{Dial: f.dial})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
	if rep.Totals.Matched != 2 || rep.Totals.Requests != 2 {
		t.Errorf("totals %+v", rep.Totals)
	}
}

package capfile

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gopacket/gopacket/pcapgo"
)

func TestWriteRejects(t *testing.T) {
	cases := []struct {
		desc   string
		change func(*Record)
		want   string
	}{
		{"data longer than orig_len", func(r *Record) { r.OrigLen = 2 }, "more than orig_len"},
		{"orig_len over the limit", func(r *Record) { r.OrigLen = MaxMessageLen + 1 }, "exceeds"},
		{"comm too long", func(r *Record) { r.Comm = strings.Repeat("c", 16) }, "comm"},
		{"service too long", func(r *Record) { r.Service = strings.Repeat("s", 32) }, "service"},
		{"conn too long", func(r *Record) { r.Conn = strings.Repeat("k", 48) }, "conn"},
	}
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		rec := sample(uint64(i), payload(10, 0))
		c.change(rec)
		if err := w.Write(rec); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.desc, err, c.want)
		}
	}
	// A rejected record does not spoil the Writer.
	good := sample(99, payload(10, 0))
	if err := w.Write(good); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, ferrs, err := readAll(t, buf.Bytes())
	if err != io.EOF || len(ferrs) > 0 || len(recs) != 1 || recs[0].Seq != 99 {
		t.Fatalf("read %d records, %v, %v", len(recs), ferrs, err)
	}
}

// TestWriteSetsTruncated checks the flag follows from Data and OrigLen, and
// that the on-disk-only flags of a caller are ignored.
func TestWriteSetsTruncated(t *testing.T) {
	rec := sample(1, payload(10, 1))
	rec.OrigLen = 20
	rec.Flags = FlagMore | FlagCont | FlagRX
	recs, _, err := readAll(t, writeFile(t, rec))
	if err != io.EOF || len(recs) != 1 {
		t.Fatal(err)
	}
	if got, want := recs[0].Flags, FlagTruncated|FlagRX; got != want {
		t.Errorf("flags %v, want %v", got, want)
	}
}

func TestPacketComment(t *testing.T) {
	response := sample(1, payload(10, 0))
	response.Channel, response.PID, response.NSPID, response.Comm = ChannelResponse, 567, 567, "pacemaker-based"
	rx := sample(1, payload(10, 0))
	rx.Channel, rx.Flags, rx.PID, rx.NSPID, rx.Comm = ChannelResponse, FlagRX, 1234, 1234, "cibadmin"
	nsed := sample(1, payload(10, 0))
	nsed.PID, nsed.NSPID = 9999, 9998
	connect := sample(1, nil)
	connect.Kind, connect.Channel, connect.MaxMsgSize = KindConnect, ChannelNone, 131072
	truncated := sample(1, payload(10, 0))
	truncated.OrigLen = 100
	big := sample(1, payload(maxChunk+1, 0))
	anon := &Record{Kind: KindMessage, Channel: ChannelEvent}

	cases := []struct {
		desc string
		rec  *Record
		want string
	}{
		{"request by the client", sample(1, payload(10, 0)), "cib_rw request 1234(cibadmin) -> 567"},
		{"response by the server", response, "cib_rw response 567(pacemaker-based) -> 1234"},
		{"response read by the client", rx, "cib_rw response 567 -> 1234(cibadmin), received"},
		{"writer in another pid namespace", nsed, "cib_rw request 1234 -> 567 by 9999(cibadmin)"},
		{"connect", connect, "cib_rw connect 1234(cibadmin) -> 567, max 131072 bytes"},
		{"loss", &Record{Kind: KindLoss, Lost: 3, Cause: LossCopyFailed}, "lost 3 messages: copy_failed"},
		{"truncated", truncated, "cib_rw request 1234(cibadmin) -> 567, truncated to 10 of 100 bytes"},
		{"split", big, "cib_rw request 1234(cibadmin) -> 567, 2 packets"},
		{"nothing known", anon, "event ? -> ?"},
	}
	w := &Writer{}
	for _, c := range cases {
		npkt := max(1, (len(c.rec.Data)+maxChunk-1)/maxChunk)
		if got := string(w.comment(c.rec, npkt)); got != c.want {
			t.Errorf("%s: %q, want %q", c.desc, got, c.want)
		}
	}
}

func TestLinkTypeOption(t *testing.T) {
	var opts WriterOptions
	opts.LinkType = 150 // LINKTYPE_USER3
	file := writeFileOpts(t, opts, sample(1, payload(5, 1)))
	ng, err := pcapgo.NewNgReader(bytes.NewReader(file), pcapgo.DefaultNgReaderOptions)
	if err != nil {
		t.Fatal(err)
	}
	if ng.LinkType() != 150 {
		t.Errorf("link type %d, want 150", ng.LinkType())
	}
	recs, _, err := readAll(t, file)
	if err != io.EOF || len(recs) != 1 {
		t.Errorf("read %d records, %v", len(recs), err)
	}
}

func TestLinkTypeNotUser(t *testing.T) {
	var opts WriterOptions
	opts.LinkType = 1
	if _, err := NewWriter(new(bytes.Buffer), opts); err == nil || !strings.Contains(err.Error(), "link type 1") {
		t.Fatalf("got %v, want an error naming link type 1", err)
	}
}

func TestStats(t *testing.T) {
	start := time.Unix(1700000000, 5).UTC()
	end := time.Unix(1700000100, 7).UTC()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(sample(1, payload(5, 1))); err != nil {
		t.Fatal(err)
	}
	want := Stats{Start: start, End: end, Received: 1000, Dropped: 7}
	if err := w.WriteStats(want); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := r.Stats(); ok {
		t.Error("statistics before they were read")
	}
	for {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	got, ok := r.Stats()
	if !ok || !got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.Received != want.Received || got.Dropped != want.Dropped {
		t.Errorf("stats %+v %v, want %+v", got, ok, want)
	}
}

// TestCreate checks the file mode, that a flushed file reads whole while
// the Writer is still open, and that Close closes the file.
func TestCreate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.pcapng")
	if err := os.WriteFile(path, []byte("old contents, longer than nothing"), 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := Create(path, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	for i := range 3 {
		if err := w.Write(sample(uint64(i), payload(100, byte(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, _, err := readAll(t, file)
	if err != io.EOF || len(recs) != 3 {
		t.Fatalf("flushed file: %d records, %v", len(recs), err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.file.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("file still open after Close: %v", err)
	}
	if err := w.Close(); !errors.Is(err, os.ErrClosed) {
		t.Errorf("second Close: %v", err)
	}
	if err := w.Write(sample(9, nil)); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Write after Close: %v", err)
	}
	if _, err := Create(filepath.Join(dir, "no", "such", "dir"), WriterOptions{}); err == nil {
		t.Error("Create in a missing directory succeeded")
	}
}

// TestConcurrentFlush writes while another goroutine flushes, for the
// race detector; every record must come back whole.
func TestConcurrentFlush(t *testing.T) {
	var buf syncBuffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			default:
				if err := w.Flush(); err != nil {
					t.Error(err)
					return
				}
			}
		}
	})
	const n = 500
	for i := range n {
		if err := w.Write(sample(uint64(i), payload(i*37%3000, byte(i)))); err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	wg.Wait()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, ferrs, err := readAll(t, buf.Bytes())
	if err != io.EOF || len(ferrs) > 0 || len(recs) != n {
		t.Fatalf("%d records, %v, %v", len(recs), ferrs, err)
	}
}

// TestWriteErrorSticks checks a failed write is returned by later calls.
func TestWriteErrorSticks(t *testing.T) {
	w, err := NewWriter(failWriter{}, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Enough bytes to get past the buffers.
	err = w.Write(sample(1, payload(1<<20, 1)))
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		t.Fatal("no error from a failing writer")
	}
	if err2 := w.Write(sample(2, nil)); err2 == nil {
		t.Error("Write after a failed write succeeded")
	}
	if err2 := w.Close(); err2 == nil {
		t.Error("Close after a failed write succeeded")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte { return b.buf.Bytes() }

// Packets go straight to the writer's buffer and the statistics block
// through pcapgo: a packet written after the statistics still comes after
// them in the file.
func TestWriteAfterStatsKeepsOrder(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewWriter(&buf, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if i == 2 {
			if err := w.WriteStats(Stats{Received: 2}); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Write(sample(uint64(i+1), payload(100*(i+1), byte(i)))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	recs, ferrs, err := readAll(t, buf.Bytes())
	if err != io.EOF || len(ferrs) > 0 || len(recs) != 3 {
		t.Fatalf("%d records, %v, %v", len(recs), ferrs, err)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || len(r.Data) != 100*(i+1) {
			t.Errorf("record %d: seq %d, %d bytes", i, r.Seq, len(r.Data))
		}
	}
}

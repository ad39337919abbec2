//go:build linux && amd64

package capture

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

func TestCaptureQBPair(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	for _, tc := range []struct {
		transport string
		max       int
		sizes     []int
		rx        bool
	}{
		{"shm", 4 << 20, []int{24, 100, 4095, 4096, 4097, 32767, 32768, 32769, 65539, 1<<20 + 5, 3<<20 + 1}, false},
		{"socket", 1 << 20, []int{24, 100, 4096, 32768, 32769, 200003}, false},
		{"shm", 4 << 20, []int{24, 5000, 70000, 1<<20 + 5}, true},
		{"socket", 1 << 20, []int{24, 5000, 70000}, true},
	} {
		name := tc.transport
		if tc.rx {
			name += "-rx"
		}
		t.Run(name, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-%s", os.Getpid(), name)
			tr := openTracer(t, Config{Services: []string{service}, RX: tc.rx})
			srvPID, cliPID := runPair(t, bin, service, tc.transport, tc.max, tc.sizes)
			recs := collect(t, tr, 500*time.Millisecond)

			transport := capfile.TransportSHM
			if tc.transport == "socket" {
				transport = capfile.TransportSocket
			}
			msgs := map[msgKey]*capfile.Record{}
			var connects, disconnects int
			for _, r := range recs {
				switch r.Kind {
				case capfile.KindLoss:
					t.Errorf("loss: %d messages, cause %d", r.Lost, r.Cause)
					continue
				case capfile.KindConnect:
					connects++
					if r.PID != uint32(cliPID) || r.MaxMsgSize < uint32(tc.max) || r.Transport != transport {
						t.Errorf("connect: pid %d max %d transport %d", r.PID, r.MaxMsgSize, r.Transport)
					}
					continue
				case capfile.KindDisconnect:
					disconnects++
					if r.PID != uint32(srvPID) || r.Transport != transport {
						t.Errorf("disconnect: pid %d transport %d", r.PID, r.Transport)
					}
					continue
				}
				if r.Service != service || r.Transport != transport {
					t.Errorf("record of service %q transport %d", r.Service, r.Transport)
					continue
				}
				if r.ServerPID != uint32(srvPID) || r.ClientPID != uint32(cliPID) {
					t.Errorf("connection %s: pids %d/%d, want %d/%d", r.Conn, r.ServerPID, r.ClientPID, srvPID, cliPID)
				}
				if len(r.Data) < 16 {
					t.Errorf("message of %d bytes", len(r.Data))
					continue
				}
				k := msgKey{r.Channel, r.Flags&capfile.FlagRX != 0, binary.LittleEndian.Uint32(r.Data)}
				if msgs[k] != nil {
					t.Errorf("duplicate %+v", k)
				}
				msgs[k] = r
			}
			if connects != 1 || disconnects != 1 {
				t.Errorf("%d connect and %d disconnect records, want 1 and 1", connects, disconnects)
			}

			sides := []bool{false}
			if tc.rx {
				sides = append(sides, true)
			}
			for i, size := range tc.sizes {
				id := uint32(i + 1)
				for _, ch := range []struct {
					c      capfile.Channel
					b      byte
					sender int
				}{
					{capfile.ChannelRequest, 'q', cliPID},
					{capfile.ChannelResponse, 'r', srvPID},
					{capfile.ChannelEvent, 'e', srvPID},
				} {
					for _, rx := range sides {
						k := msgKey{ch.c, rx, id}
						r := msgs[k]
						if r == nil {
							t.Errorf("missing %+v (%d bytes)", k, size)
							continue
						}
						delete(msgs, k)
						want := expected(ch.b, id, size)
						if !bytes.Equal(r.Data, want) || r.OrigLen != uint32(len(want)) || r.Flags&capfile.FlagTruncated != 0 {
							t.Errorf("%+v: %d bytes (orig %d), want %d, equal %v", k, len(r.Data), r.OrigLen, len(want), bytes.Equal(r.Data, want))
						}
						pid := uint32(ch.sender)
						if rx {
							pid = uint32(srvPID + cliPID - ch.sender)
						}
						if r.PID != pid || r.NSPID != pid || r.Comm != "qbpair" {
							t.Errorf("%+v: written by %d (%d) %q, want %d", k, r.PID, r.NSPID, r.Comm, pid)
						}
						if r.Time.IsZero() || time.Since(r.Time) > time.Minute || time.Since(r.Time) < 0 {
							t.Errorf("%+v: time %v", k, r.Time)
						}
					}
				}
			}
			for k := range msgs {
				t.Errorf("unexpected message %+v", k)
			}
			s := tr.Stats()
			if s.LostTotal() != 0 {
				t.Errorf("lost %v", s.Lost)
			}
			t.Logf("%d records; stats %+v", len(recs), s)
		})
	}
}

// Connections made before the recorder started are recorded too; for the
// socket transport that takes finding the processes that own libqb sockets.
func TestCaptureExistingConnection(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	for _, transport := range []string{"shm", "socket"} {
		t.Run(transport, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-old-%s", os.Getpid(), transport)
			var tr *Tracer
			runPairWait(t, bin, service, transport, 1<<20, []int{100, 50000}, func() {
				tr = openTracer(t, Config{Services: []string{service}})
			})
			n := 0
			for _, r := range collect(t, tr, 300*time.Millisecond) {
				if r.Kind == capfile.KindMessage {
					n++
				}
			}
			if n != 6 {
				t.Errorf("%d messages, want 6", n)
			}
		})
	}
}

// Filters in the kernel leave other traffic out.
func TestCaptureFilters(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-filter", os.Getpid())
	for _, cfg := range []Config{
		{Services: []string{service + "x"}},
		{Comms: []string{"nobody-here"}},
		{PIDs: []uint32{1 << 30}},
	} {
		tr := openTracer(t, cfg)
		runPair(t, bin, service, "shm", 1<<20, []int{100})
		for _, r := range collect(t, tr, 300*time.Millisecond) {
			if r.Service == service {
				t.Errorf("config %+v: recorded %+v", cfg, r)
			}
		}
		tr.Close()
	}
	// Snaplen truncates and keeps the original length.
	tr := openTracer(t, Config{Services: []string{service}, Snaplen: 64})
	runPair(t, bin, service, "shm", 1<<20, []int{1000})
	n := 0
	for _, r := range collect(t, tr, 300*time.Millisecond) {
		if r.Kind != capfile.KindMessage {
			continue
		}
		n++
		if len(r.Data) != 64 || r.OrigLen != 1000 || r.Flags&capfile.FlagTruncated == 0 {
			t.Errorf("snaplen 64: %d bytes of %d, flags %#x", len(r.Data), r.OrigLen, r.Flags)
		}
	}
	if n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// Comms keeps both ends of a conversation: what a named process writes and
// what is written to it, whether it started after the tracer (exec), before
// it (the scan at Open), and with or without the socket transport's hooks.
func TestCaptureCommBothEnds(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	srvBin := filepath.Join(t.TempDir(), "qbsrv")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(srvBin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		comm      string
		before    bool // the tracer opens once both ends run
		noSocket  bool
		transport string
	}{
		{"qbsrv", false, false, "shm"},
		{"qbsrv", false, true, "shm"},
		{"qbsrv", true, true, "shm"},
		{"qbpair", false, true, "shm"},
		{"qbpair", true, false, "shm"},
		{"qbsrv", false, false, "socket"},
		{"qbpair", true, false, "socket"},
	} {
		name := fmt.Sprintf("%s-%s-running=%v-nosocket=%v", tc.transport, tc.comm, tc.before, tc.noSocket)
		t.Run(name, func(t *testing.T) {
			service := fmt.Sprintf("pt%d-comm", os.Getpid())
			cfg := Config{Comms: []string{tc.comm}, NoSocket: tc.noSocket}
			var tr *Tracer
			open := func() { tr = openTracer(t, cfg) }
			if !tc.before {
				open()
				open = func() {}
			}
			runPairBins(t, srvBin, bin, service, tc.transport, 1<<20, []int{100, 5000}, open)
			got := map[capfile.Channel]int{}
			for _, r := range collect(t, tr, 300*time.Millisecond) {
				if r.Kind == capfile.KindMessage && r.Service == service {
					got[r.Channel]++
				}
			}
			for _, ch := range []capfile.Channel{capfile.ChannelRequest, capfile.ChannelResponse, capfile.ChannelEvent} {
				if got[ch] != 2 {
					t.Errorf("%d %v messages, want 2", got[ch], ch)
				}
			}
		})
	}
}

// A reader that cannot keep up loses messages, and says how many: the
// messages read plus those counted lost are the messages sent.
func TestCaptureLossCounted(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-loss", os.Getpid())
	tr := openTracer(t, Config{Services: []string{service}, RingSize: MinRingSize})
	sizes := make([]int, 40)
	for i := range sizes {
		sizes[i] = 50000
	}
	// Nobody reads while the pair runs: the 256 KiB ring fills up.
	runPair(t, bin, service, "shm", 1<<20, sizes)
	var got, lost uint64
	for _, r := range collect(t, tr, 300*time.Millisecond) {
		switch r.Kind {
		case capfile.KindMessage:
			got++
			if len(r.Data) != 50000 {
				t.Errorf("message of %d bytes", len(r.Data))
			}
		case capfile.KindLoss:
			if r.Cause != capfile.LossRingFull {
				t.Errorf("loss cause %v", r.Cause)
			}
			lost += uint64(r.Lost)
		}
	}
	if lost == 0 || got+lost != 3*uint64(len(sizes)) {
		t.Errorf("%d messages read, %d lost; %d sent", got, lost, 3*len(sizes))
	}
	if s := tr.Stats(); s.Lost[capfile.LossRingFull] != lost {
		t.Errorf("stats say %v lost, records %d", s.Lost, lost)
	}
	t.Logf("%d read, %d lost", got, lost)
}

// The benchmark floor: EmptyPrograms attaches exactly the hooks a normal
// Open attaches, and its programs do nothing (no record, no counter).
func TestCaptureEmptyPrograms(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-empty", os.Getpid())
	for _, noSocket := range []bool{false, true} {
		full := openTracer(t, Config{NoSocket: noSocket})
		full.Close() // its hooks are all counted once it is closed
		links := len(full.links)
		if !noSocket && !full.SocketHooks() {
			// No socket-transport process appeared: the recorder attaches those hooks
			// (bind, then the send syscalls) once one does; empty programs at once.
			links += 1 + 6
		}

		tr := openTracer(t, Config{NoSocket: noSocket, EmptyPrograms: true})
		if len(tr.links) != links || links == 0 {
			t.Errorf("NoSocket %v: %d hooks with empty programs, %d with the recorder's", noSocket, len(tr.links), links)
		}
		runPair(t, bin, service, "shm", 1<<20, []int{100, 2000})
		if recs := collect(t, tr, 300*time.Millisecond); len(recs) != 0 {
			t.Errorf("NoSocket %v: empty programs recorded %d records", noSocket, len(recs))
		}
		if st := tr.Stats(); st.CommitHits != 0 || st.Messages != 0 {
			t.Errorf("NoSocket %v: empty programs counted %+v", noSocket, st)
		}
		tr.Close()
	}
}

// A recorder that hands every record back with Recycle gets the same
// messages, each whole and exact, while their memory is reused.
func TestCaptureRecycle(t *testing.T) {
	requireRoot(t)
	bin := buildQBPair(t)
	service := fmt.Sprintf("pt%d-recycle", os.Getpid())
	sizes := []int{3000, 100, 2000, 24, 70000, 100, 5000, 300}
	tr := openTracer(t, Config{Services: []string{service}})
	runPair(t, bin, service, "shm", 1<<20, sizes)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	seen := map[byte]int{}
	var reused int
	addrs := map[*capfile.Record]bool{}
	for {
		r, err := tr.Read(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Kind != capfile.KindMessage {
			continue
		}
		if addrs[r] {
			reused++
		}
		addrs[r] = true
		ch := byte('q')
		switch r.Channel {
		case capfile.ChannelResponse:
			ch = 'r'
		case capfile.ChannelEvent:
			ch = 'e'
		}
		id := binary.LittleEndian.Uint32(r.Data)
		if want := expected(ch, id, int(r.OrigLen)); !bytes.Equal(r.Data, want) {
			t.Errorf("%c message %d (%d bytes) differs from what was sent", ch, id, len(r.Data))
		}
		seen[ch]++
		tr.Recycle(r)
	}
	if seen['q'] != len(sizes) || seen['r'] != len(sizes) || seen['e'] != len(sizes) {
		t.Errorf("messages per channel %v, want %d each", seen, len(sizes))
	}
	if reused == 0 {
		t.Error("no record was reused")
	}
}

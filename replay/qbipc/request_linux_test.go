package qbipc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// pacemakerServer answers like a Pacemaker daemon in dialect d: it reassembles requests
// and replies with a stale reply to an older request first, then with reply(request).
func pacemakerServer(t *testing.T, d Dialect, compress func([]byte) ([]byte, error), reply func(xml string) string) func(*fakeServer) {
	return func(s *fakeServer) {
		a := Assembler{Dialect: d}
		s.replies = func(raw []byte) [][]byte {
			m, err := a.Add(raw)
			if err != nil {
				t.Errorf("fake daemon: %v", err)
				return nil
			}
			if m == nil || m.Header.Flags&FlagClientResponse == 0 {
				return nil
			}
			// The server's own limit: 128 KiB, as Pacemaker servers use.
			enc := Encoder{Dialect: d, MaxSize: PartBufferSize, Compress: compress}
			stale, _ := enc.Encode(m.Header.ID-1, "<stale/>", FlagServerFree)
			msgs, err := enc.Encode(m.Header.ID, reply(string(m.XML)), FlagServerFree)
			if err != nil {
				t.Errorf("fake daemon: %v", err)
			}
			return append(stale, msgs...)
		}
	}
}

func TestRequest(t *testing.T) {
	big := strings.Repeat("<nvpair/>", 30000) // 270000 bytes: 3 parts, or compressed
	for _, c := range []struct {
		name     string
		dialect  Dialect
		compress func([]byte) ([]byte, error)
		parts    int
	}{
		{"A", DialectA, bzip2Command(), 1},
		{"B", DialectB, nil, 3},
	} {
		for _, tr := range transports {
			t.Run(c.name+"/"+tr.String(), func(t *testing.T) {
				if c.dialect == DialectA && c.compress == nil {
					t.Skip("no bzip2 program")
				}
				opts := Options{Dialect: c.dialect, Compress: c.compress, MaxMsgSize: 512 * 1024}
				if c.dialect == DialectB {
					opts.MaxMsgSize = 0
				}
				cl, s := dialFake(t, tr, opts, pacemakerServer(t, c.dialect, c.compress,
					func(xml string) string { return "<reply>" + xml + "</reply>" }))
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				for _, req := range []string{"<small/>", "<big>" + big + "</big>"} {
					m, err := cl.Request(ctx, req, FlagClientResponse)
					if err != nil {
						t.Fatal(err)
					}
					if string(m.XML) != "<reply>"+req+"</reply>" {
						t.Fatalf("reply of %d bytes, want %d", len(m.XML), len(req)+15)
					}
					if len(req) > 1000 {
						if m.Parts != c.parts {
							t.Errorf("reply in %d parts, want %d", m.Parts, c.parts)
						}
						if c.dialect == DialectA && m.Header.Flags&FlagCompressed == 0 {
							t.Error("big reply not compressed")
						}
						if m.Header.Flags&(FlagMultipart|FlagMultipartEnd) != 0 {
							t.Errorf("reassembled header keeps multipart flags %#x", m.Header.Flags)
						}
					}
				}
				// Without FlagClientResponse nothing is awaited.
				if m, err := cl.Request(ctx, "<notify/>", 0); m != nil || err != nil {
					t.Errorf("Request without reply = %v, %v", m, err)
				}
				// small, big (1 message or 3 parts), notify; the last needs no reply, so wait.
				want := map[Dialect]int{DialectA: 3, DialectB: 5}[c.dialect]
				for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
					s.mu.Lock()
					n := len(s.handled)
					s.mu.Unlock()
					if n == want {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("server got %d messages, want %d", n, want)
					}
				}
			})
		}
	}
}

// RequestInto gives the replies Request gives, skipping stale ones, and reuses the
// memory of the reply before when the next one fits.
func TestRequestInto(t *testing.T) {
	big := strings.Repeat("<nvpair/>", 30000)
	for _, d := range []Dialect{DialectA, DialectB} {
		for _, tr := range transports {
			t.Run(d.String()+"/"+tr.String(), func(t *testing.T) {
				compress := bzip2Command()
				opts := Options{Dialect: d, Compress: compress, MaxMsgSize: 512 * 1024}
				cl, _ := dialFake(t, tr, opts, pacemakerServer(t, d, compress,
					func(xml string) string { return "<reply>" + xml + "</reply>" }))
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				reqs := []string{"<medium>" + strings.Repeat("m", 3000) + "</medium>", "<small/>", "<small/>"}
				if d == DialectB || compress != nil {
					reqs = append(reqs, "<big>"+big+"</big>", "<small/>")
				}
				var m Message
				for i, req := range reqs {
					prev := m.buf
					if err := cl.RequestInto(ctx, req, FlagClientResponse, &m); err != nil {
						t.Fatal(err)
					}
					if string(m.XML) != "<reply>"+req+"</reply>" {
						t.Fatalf("request %d: reply of %d bytes, want %d", i, len(m.XML), len(req)+15)
					}
					if len(req) < 100 && len(prev) > 0 && &m.XML[0] != &prev[:cap(prev)][HeaderSize] {
						t.Errorf("request %d: the reply is not in the memory of the one before", i)
					}
				}
				before := m
				if err := cl.RequestInto(ctx, "<notify/>", 0, &m); err != nil || &m.XML[0] != &before.XML[0] {
					t.Errorf("RequestInto without reply: %v, message changed", err)
				}
			})
		}
	}
}

func TestRecvEventMessage(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.String(), func(t *testing.T) {
			c, s := dialFake(t, tr, Options{Dialect: DialectB}, nil)
			xml := "<notify>" + strings.Repeat("n", 200000) + "</notify>"
			parts, _ := (&Encoder{Dialect: DialectB}).Encode(77, xml, FlagServerEvent)
			sent := make(chan error, 1)
			go func() {
				// Each part needs the client to make room in the event ring.
				for _, p := range parts {
					err := s.event(p)
					for ; errors.Is(err, ErrFull) || errors.Is(err, unix.EAGAIN); err = s.event(p) {
						time.Sleep(time.Millisecond)
					}
					if err != nil {
						sent <- err
						return
					}
				}
				sent <- nil
			}()
			defer func() {
				if err := <-sent; err != nil {
					t.Error(err)
				}
			}()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			m, err := c.RecvEventMessage(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if string(m.XML) != xml || m.Parts != 2 || m.Header.ID != 77 {
				t.Errorf("event of %d bytes in %d parts, id %d", len(m.XML), m.Parts, m.Header.ID)
			}
		})
	}
}

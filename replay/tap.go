package replay

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// A tap runs the live traffic through the same decoder as the capture: every request
// sent and every message received becomes a capture record, so live replies are
// classified and paired with their requests (decode.Message.ReplyTo) by the rules that
// paired the recorded ones. One goroutine owns the decode.Reader.
type tap struct {
	in      chan *capfile.Record
	seq     atomic.Uint64
	deliver func(*decode.Message)
	done    chan struct{}

	mu     sync.Mutex
	closed bool
}

func newTap(deliver func(*decode.Message)) *tap {
	t := &tap{in: make(chan *capfile.Record, 256), deliver: deliver, done: make(chan struct{})}
	go t.run()
	return t
}

// Next is the decode.RecordSource side: it blocks until a record is pushed.
func (t *tap) Next() (*capfile.Record, error) {
	rec, ok := <-t.in
	if !ok {
		return nil, io.EOF
	}
	return rec, nil
}

func (t *tap) run() {
	defer close(t.done)
	var opts decode.Options
	dr := decode.NewReader(t, opts)
	for {
		m, err := dr.Next()
		if err != nil {
			return
		}
		if m.Kind == decode.KindMessage && m.Role != decode.RoleRequest {
			t.deliver(m)
		}
	}
}

// push hands one libqb message to the decoder and returns its sequence number. Pushes
// after close are dropped.
func (t *tap) push(conn, service string, ch capfile.Channel, data []byte, at time.Time) uint64 {
	seq := t.seq.Add(1)
	rec := &capfile.Record{
		Kind: capfile.KindMessage, Time: at, Channel: ch, Seq: seq,
		OrigLen: uint32(len(data)), Service: service, Conn: conn, Data: data,
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.closed {
		t.in <- rec
	}
	return seq
}

// close ends the decoder once it has handled what was pushed.
func (t *tap) close() {
	t.mu.Lock()
	if !t.closed {
		t.closed = true
		close(t.in)
	}
	t.mu.Unlock()
	<-t.done
}

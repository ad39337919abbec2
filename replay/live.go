package replay

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// A liveConn is the replay of one recorded conversation: a new connection to the same
// service, its session state, and two goroutines that hand what the daemon sends to the
// tap.
type liveConn struct {
	conv    *Conversation
	key     string // connection key in the tap
	client  Conn
	session Session
	enc     qbipc.Encoder
	tap     *tap
	wg      sync.WaitGroup

	// pushMu orders this connection's messages into the tap; it guards awaiting
	// (responses due) and held (events that came meanwhile). Pushing may block, so
	// pushMu is never taken with mu held.
	pushMu   sync.Mutex
	awaiting int
	held     []heldEvent

	mu      sync.Mutex
	err     error // why the connection is unusable; set once
	pending map[*attempt]bool
	onLost  func(*attempt, error)
}

// dialLive connects for conv with opts.Dial.
func dialLive(ctx context.Context, conv *Conversation, key string, opts *Options, t *tap, onLost func(*attempt, error)) (*liveConn, error) {
	qo := qbipc.Options{
		MaxMsgSize: conv.MaxMsgSize,
		Dialect:    opts.Dialect,
	}
	if qo.Dialect == 0 {
		qo.Dialect = conv.Dialect
	}
	if qo.Dialect == 0 {
		return nil, fmt.Errorf("%s: no Pacemaker dialect recorded; set one", conv.Service)
	}
	if qo.MaxMsgSize == 0 && qo.Dialect == qbipc.DialectA && Daemon(conv.Service) == "based" {
		qo.MaxMsgSize = 512 * 1024 // what the CIB library asks for up to 3.0.0
	}
	dctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	c, err := opts.Dial(dctx, conv.Service, qo)
	if err != nil {
		if ctx.Err() == nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded)) {
			// A daemon that accepts but never answers (stopped, hung): say how long was waited.
			return nil, fmt.Errorf("no answer within %v: %w", opts.Timeout, err)
		}
		return nil, err
	}
	lc := &liveConn{
		conv: conv, key: key, client: c, tap: t,
		enc:     qbipc.Encoder{Dialect: qo.Dialect, MaxSize: c.MaxMsgSize()},
		pending: make(map[*attempt]bool),
		onLost:  onLost,
	}
	lc.wg.Add(2)
	go lc.receive(capfile.ChannelResponse, c.Recv)
	go lc.receive(capfile.ChannelEvent, c.RecvEvent)
	return lc, nil
}

func (lc *liveConn) receive(ch capfile.Channel, recv func(context.Context) ([]byte, error)) {
	defer lc.wg.Done()
	for {
		msg, err := recv(context.Background())
		if err != nil {
			if !errors.Is(err, qbipc.ErrClosed) {
				lc.lost(fmt.Errorf("receive %s: %w", lc.conv.Service, err))
			}
			return
		}
		now := time.Now()
		lc.pushMu.Lock()
		if ch == capfile.ChannelResponse || lc.relayedResponse(ch, msg) {
			lc.tap.push(lc.key, lc.conv.Service, ch, msg, now)
			if h, _, err := qbipc.ParseHeader(lc.enc.Dialect, msg); err != nil ||
				h.Flags&qbipc.FlagMultipart == 0 || h.Flags&qbipc.FlagMultipartEnd != 0 {
				lc.awaiting = max(0, lc.awaiting-1)
			}
			if lc.awaiting == 0 {
				lc.flushHeld()
			}
		} else if lc.awaiting > 0 {
			lc.held = append(lc.held, heldEvent{msg, now})
		} else {
			lc.tap.push(lc.key, lc.conv.Service, ch, msg, now)
		}
		lc.pushMu.Unlock()
	}
}

// relayedResponse reports an event that is the response of a request sent with the
// proxied flag: a daemon sends every reply to a proxied client as an event flagged
// proxied_relay_response (docs/remote.md), and nothing on the response channel.
func (lc *liveConn) relayedResponse(ch capfile.Channel, msg []byte) bool {
	if ch != capfile.ChannelEvent {
		return false
	}
	h, _, err := qbipc.ParseHeader(lc.enc.Dialect, msg)
	return err == nil && h.Flags&qbipc.FlagProxiedRelayResponse != 0
}

// An event that came while a response was due waits for it: a libqb server writes a
// request's response before the events its handling sends (the ack of a ping before the
// ping's reply), and a Pacemaker client reads them in that order, so the tap must see
// them in that order too; the two channels are read by two goroutines.
type heldEvent struct {
	msg []byte
	at  time.Time
}

// flushHeld hands held events to the tap; lc.pushMu held.
func (lc *liveConn) flushHeld() {
	for _, e := range lc.held {
		lc.tap.push(lc.key, lc.conv.Service, capfile.ChannelEvent, e.msg, e.at)
	}
	lc.held = nil
}

// giveUpResponses stops holding events back for responses that will not come (a request
// timed out, the connection failed).
func (lc *liveConn) giveUpResponses() {
	lc.pushMu.Lock()
	lc.awaiting = 0
	lc.flushHeld()
	lc.pushMu.Unlock()
}

// lost marks the connection unusable and fails what still waits on it.
func (lc *liveConn) lost(err error) {
	lc.mu.Lock()
	if lc.err == nil {
		lc.err = err
	}
	var waiting []*attempt
	for a := range lc.pending {
		waiting = append(waiting, a)
	}
	clear(lc.pending)
	lc.mu.Unlock()
	for _, a := range waiting {
		lc.onLost(a, err)
	}
}

// send encodes xml with the recorded flags and sends it, after pushing it to the tap.
// a is registered with the connection (so a lost connection fails it) by the caller's
// register function, which runs once the tap has the request's sequence number.
func (lc *liveConn) send(ctx context.Context, xml []byte, flags qbipc.Flags, a *attempt, register func(seq uint64)) error {
	lc.mu.Lock()
	err := lc.err
	if err == nil {
		lc.pending[a] = true
	}
	lc.mu.Unlock()
	if err != nil {
		return err
	}
	// The envelope bits are the encoder's to set.
	flags &^= qbipc.FlagCompressed | qbipc.FlagMultipart | qbipc.FlagMultipartEnd
	msgs, err := lc.enc.Encode(lc.client.NextID(), string(xml), flags)
	if err != nil {
		return err
	}
	now := time.Now()
	lc.pushMu.Lock()
	for i, m := range msgs {
		seq := lc.tap.push(lc.key, lc.conv.Service, capfile.ChannelRequest, m, now)
		if i == len(msgs)-1 {
			register(seq)
		}
	}
	if flags&qbipc.FlagClientResponse != 0 {
		lc.awaiting++
	}
	lc.pushMu.Unlock()
	a.sent = now
	for _, m := range msgs {
		if err := qbipc.SendRetry(ctx, lc.client, m); err != nil {
			lc.giveUpResponses()
			return err
		}
	}
	return nil
}

// finished forgets a, which no longer waits.
func (lc *liveConn) finished(a *attempt) {
	lc.mu.Lock()
	delete(lc.pending, a)
	lc.mu.Unlock()
}

// close disconnects and waits for the receive goroutines.
func (lc *liveConn) close() error {
	err := lc.client.Close()
	lc.wg.Wait()
	return err
}

// learn updates the session from a recorded reply and its live counterpart.
func (lc *liveConn) learn(recorded, live *decode.Message) {
	lc.mu.Lock()
	lc.session.Learn(recorded, live)
	lc.mu.Unlock()
}

// rewrite puts the session's live values into a recorded request.
func (lc *liveConn) rewrite(xml []byte) []byte {
	lc.mu.Lock()
	defer lc.mu.Unlock()
	return lc.session.Rewrite(xml)
}

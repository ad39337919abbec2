package qbipc

import (
	"context"
	"fmt"
	"time"
)

// Request sends xml as a Pacemaker message in Options.Dialect (compressed or split as the
// dialect requires) and, when flags has FlagClientResponse, waits for the reply on the
// response channel, as crm_ipc_send does: it skips replies to earlier requests and
// reassembles multipart replies. Without FlagClientResponse it returns nil after
// sending. Daemons that answer on the event channel need RecvEventMessage instead.
// A send refused for flow control or a full channel is retried until ctx ends.
func (c *Client) Request(ctx context.Context, xml string, flags Flags) (*Message, error) {
	m := new(Message)
	if err := c.RequestInto(ctx, xml, flags, m); err != nil || flags&FlagClientResponse == 0 {
		return nil, err
	}
	return m, nil
}

// RequestInto is Request storing the reply in *m, whose memory it reuses: a reply
// received by an earlier RequestInto into the same m is overwritten, the way
// qb_ipcc_recv reads into its caller's buffer. A request loop that passes one m
// allocates nothing per request for replies that come in one uncompressed message.
// Without FlagClientResponse m is left as it is.
func (c *Client) RequestInto(ctx context.Context, xml string, flags Flags, m *Message) error {
	if c.opts.Dialect == 0 {
		return fmt.Errorf("request %s: Options.Dialect not set", c.service)
	}
	id := c.NextID()
	enc := Encoder{Dialect: c.opts.Dialect, MaxSize: c.maxMsgSize, Compress: c.opts.Compress}
	// The response lock is taken before sending, so no other Recv takes the reply. It
	// also guards reqBuf, which carries the message when one plain message does.
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	var one bool
	if c.reqBuf, one = enc.AppendOne(c.reqBuf[:0], id, xml, flags); one {
		if err := c.sendRetry(ctx, c.reqBuf); err != nil {
			return err
		}
	} else {
		msgs, err := enc.Encode(id, xml, flags)
		if err != nil {
			return fmt.Errorf("request %s: %w", c.service, encodeError(err))
		}
		for _, msg := range msgs {
			if err := c.sendRetry(ctx, msg); err != nil {
				return err
			}
		}
	}
	if flags&FlagClientResponse == 0 {
		return nil
	}
	buf := m.buf
	for {
		raw, err := c.recv(ctx, buf[:0])
		if err != nil {
			return err
		}
		buf = raw
		reply, whole, err := c.respAsm.add(raw)
		if err != nil {
			return fmt.Errorf("receive %s: %w", c.service, err)
		}
		switch {
		case !whole: // more parts follow
		case reply.Header.ID == id:
			reply.buf = buf
			*m = reply
			return nil
		case reply.Header.ID > id:
			return fmt.Errorf("receive %s: reply %d to request %d: %w", c.service, reply.Header.ID, id, ErrEnvelope)
		}
		// Older ids answer requests whose caller gave up: skip them, like Pacemaker.
	}
}

// sendRetry is Send, retried with a short pause while the server cannot take the message.
func (c *Client) sendRetry(ctx context.Context, msg []byte) error {
	err := SendRetry(ctx, c, msg)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("send %s: %w", c.service, err)
	}
	return err
}

// Sender is what SendRetry sends with: a [Client], or a stand-in in tests.
type Sender interface {
	Send(ctx context.Context, msg []byte) error
}

// SendRetry sends msg, pausing briefly (1 ms doubling to 100 ms) and trying again while the
// error is [Retryable]: flow control or a full ring. It gives up when ctx ends.
func SendRetry(ctx context.Context, s Sender, msg []byte) error {
	for pause := time.Millisecond; ; pause = min(2*pause, 100*time.Millisecond) {
		err := s.Send(ctx, msg)
		if !Retryable(err) {
			return err
		}
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		}
	}
}

// RecvEventMessage returns the next whole Pacemaker message from the event channel,
// reassembling multipart events and decompressing compressed ones.
func (c *Client) RecvEventMessage(ctx context.Context) (*Message, error) {
	if c.evStarted.Load() {
		return nil, fmt.Errorf("receive event %s: events are being delivered on the Events channel", c.service)
	}
	c.evMu.Lock()
	defer c.evMu.Unlock()
	for {
		raw, err := c.recvEvent(ctx)
		if err != nil {
			return nil, err
		}
		m, err := c.evAsm.Add(raw)
		if err != nil {
			return nil, fmt.Errorf("receive event %s: %w", c.service, err)
		}
		if m != nil {
			return m, nil
		}
	}
}

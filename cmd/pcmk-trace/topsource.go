package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"github.com/cilium/ebpf"

	"github.com/pcmk-trace/pcmk-trace/analyse"
	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/capture"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// topSource feeds an analyse.Top from the probes or from a capture file and
// cuts it into one frame per interval: by the clock when live, by the
// records' timestamps when playing a file.
type topSource struct {
	o   *topOptions
	cfg analyse.Config

	// live
	t      *capture.Tracer
	w      *capfile.Writer
	probes int // probes attached
	libs   int // libqb files probed

	// file
	in *input

	start  time.Time // of the run (live) or of the capture's first interval (file)
	frames chan analyse.TopFrame

	mu  sync.Mutex
	err error // what ended the source early

	closeOnce sync.Once
	closeErr  error
}

// openTopLive attaches the probes record would, with record's configuration.
func openTopLive(o *topOptions, stderr io.Writer) (*topSource, error) {
	cfg, err := o.rec.config()
	if err != nil {
		return nil, exitCode{2, fmt.Errorf("top: %w", err)}
	}
	if o.rec.output == "" {
		// Nothing is kept: copy what the view reads (-w records whole messages).
		if !o.snapSet {
			cfg.Snaplen = topSnaplen
		}
		cfg.SnapCompressedWhole = cfg.Snaplen > 0
	}
	// A fifth of an interval at most, so an interval's rates miss little of its end.
	cfg.Latency = min(capture.DefaultLatency, o.interval/5)
	relaxTimers(cfg.ReadLatency())
	t, err := capture.Open(cfg)
	if err != nil {
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) {
			fmt.Fprintf(stderr, "%+v\n", ve)
		}
		return nil, fmt.Errorf("top: %w", err)
	}
	s := &topSource{o: o, cfg: topConfig(o), t: t, probes: t.Probes(), start: time.Now(), frames: make(chan analyse.TopFrame)}
	for _, l := range t.Libraries() {
		if l.Err != nil {
			fmt.Fprintf(stderr, "pcmk-trace: top: not probing %s: %v\n", l.Name, l.Err)
		} else {
			s.libs++
		}
	}
	if o.rec.output != "" {
		opts := (&recorder{t: t, o: &o.rec}).writerOptions(o.args)
		opts.Section.CommandLine = commandLine(append([]string{"pcmk-trace", "top"}, hideValues(o.args)...))
		if s.w, err = capfile.Create(o.rec.output, opts); err != nil {
			t.Close()
			return nil, fmt.Errorf("top: %w", err)
		}
	}
	if o.rec.readyFile != "" {
		if err := os.WriteFile(o.rec.readyFile, nil, 0o644); err != nil {
			s.close()
			return nil, fmt.Errorf("top: ready file: %w", err)
		}
	}
	return s, nil
}

// openTopFile opens a capture to play through the view.
func openTopFile(o *topOptions) (*topSource, error) {
	in, err := openInput(o.file, &filterFlags{}, topDecodeOptions(o))
	if err != nil {
		return nil, exitCode{2, fmt.Errorf("top: %w", err)}
	}
	return &topSource{o: o, cfg: topConfig(o), in: in, frames: make(chan analyse.TopFrame)}, nil
}

// live reports whether the source records, rather than plays a file.
func (s *topSource) live() bool { return s.t != nil }

// launch runs the source in a goroutine of its own under a context derived from ctx;
// stop ends it and waits for it, at most topStopWait: a user who pressed q waits for the
// prompt, and closing the tracer afterwards ends a source still reading.
func (s *topSource) launch(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { s.run(ctx); close(done) }()
	return ctx, func() {
		cancel()
		select {
		case <-done:
		case <-time.After(topStopWait):
		}
	}
}

// run feeds the frames channel until ctx ends or the source does, then closes it.
func (s *topSource) run(ctx context.Context) {
	defer close(s.frames)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !s.live() {
		s.guard(cancel, func() { s.play(ctx) })
		return
	}
	top := analyse.NewTop(s.cfg, s.start)
	var mu sync.Mutex // guards top between the reader and the clock
	var wg sync.WaitGroup
	wg.Go(func() { s.guard(cancel, func() { s.read(ctx, top, &mu) }) })
	defer wg.Wait()
	defer cancel()
	tick := time.NewTicker(s.o.interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			mu.Lock()
			f := top.Tick(now)
			mu.Unlock()
			if !s.emit(ctx, f) {
				return
			}
		}
	}
}

// guard runs f; a panic in it becomes the source's error and ends the run,
// so the view restores the terminal before the error is shown.
func (s *topSource) guard(cancel context.CancelFunc, f func()) {
	defer func() {
		if r := recover(); r != nil {
			s.fail(fmt.Errorf("top: panic: %v\n%s", r, debug.Stack()))
			cancel()
		}
	}()
	f()
}

func (s *topSource) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
}

// failed returns what ended the source early, if anything did.
func (s *topSource) failed() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *topSource) emit(ctx context.Context, f analyse.TopFrame) bool {
	select {
	case s.frames <- f:
		return true
	case <-ctx.Done():
		return false
	}
}

// read decodes what the probes record into top, writing the records to -w's file first.
func (s *topSource) read(ctx context.Context, top *analyse.Top, mu *sync.Mutex) {
	dec := decode.NewReader(&tracerRecords{ctx: ctx, s: s}, topDecodeOptions(s.o))
	for {
		m, err := dec.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) && ctx.Err() == nil {
				s.fail(fmt.Errorf("top: %w", err))
			}
			return
		}
		mu.Lock()
		top.Add(m)
		mu.Unlock()
		m.Release() // the Top keeps nothing of it: the next message reuses it
	}
}

// tracerRecords is the probes' records as a decode.RecordSource.
type tracerRecords struct {
	ctx   context.Context
	s     *topSource
	flush time.Time
	prev  *capfile.Record // handed to the decoder last
}

func (r *tracerRecords) Next() (*capfile.Record, error) {
	// The decoder asks for a record once it returned every message of the
	// previous one, and read has added those to the Top, which keeps none
	// of their bytes: the previous record's memory can serve the next.
	if r.prev != nil {
		r.s.t.Recycle(r.prev)
		r.prev = nil
	}
	rec, err := r.s.t.Read(r.ctx)
	if err != nil {
		if r.ctx.Err() != nil {
			return nil, io.EOF
		}
		return nil, err
	}
	if w := r.s.w; w != nil {
		if err := w.Write(rec); err != nil {
			return nil, err
		}
		if now := time.Now(); now.Sub(r.flush) > 200*time.Millisecond {
			r.flush = now
			if err := w.Flush(); err != nil {
				return nil, err
			}
		}
	}
	r.prev = rec
	return rec, nil
}

// play feeds the capture's messages into a Top and cuts a frame at every
// interval boundary of capture time, aligned as stats' rate table, paced
// by the records' timestamps at --speed (0: as fast as possible).
func (s *topSource) play(ctx context.Context) {
	iv := s.o.interval
	var top *analyse.Top
	var before []*decode.Message // messages without a time, before the first with one
	var next, origin, wall time.Time
	pace := func(t time.Time) bool {
		if s.o.speed == 0 {
			return ctx.Err() == nil
		}
		d := time.Until(wall.Add(time.Duration(float64(t.Sub(origin)) / s.o.speed)))
		if d <= 0 {
			return ctx.Err() == nil
		}
		timer := time.NewTimer(d)
		defer timer.Stop()
		select {
		case <-timer.C:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for {
		m, err := s.in.msgs.Next()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.fail(fmt.Errorf("top: %s: %w", s.o.file, err))
			}
			break
		}
		if top == nil {
			if m.Time.IsZero() {
				before = append(before, m)
				continue
			}
			origin, wall = m.Time.Truncate(iv), time.Now()
			s.mu.Lock()
			s.start = origin
			s.mu.Unlock()
			top, next = analyse.NewTop(s.cfg, origin), origin.Add(iv)
			for _, b := range before {
				top.Add(b)
			}
			before = nil
		}
		for !m.Time.IsZero() && !m.Time.Before(next) {
			if !pace(next) || !s.emit(ctx, top.Tick(next)) {
				return
			}
			next = next.Add(iv)
		}
		top.Add(m)
	}
	if top != nil && pace(next) {
		s.emit(ctx, top.Tick(next))
	}
}

// started returns the start of the run, or of the capture's first interval.
func (s *topSource) started() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.start
}

// close detaches the probes, or closes the file, and ends -w's capture.
func (s *topSource) close() error {
	s.closeOnce.Do(func() {
		if s.in != nil {
			s.in.Close()
			return
		}
		var errs []error
		if s.w != nil {
			st := s.t.Stats()
			errs = append(errs, s.w.WriteStats(capfile.Stats{Start: s.start, End: time.Now(), Received: st.Messages, Dropped: st.LostTotal()}))
			errs = append(errs, s.w.Close())
		}
		errs = append(errs, s.t.Close())
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("top: %w", err)
		}
	})
	return s.closeErr
}

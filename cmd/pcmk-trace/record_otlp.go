package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/export"
)

// liveExport sends what record captures as spans while it records
// (record --otlp). Records are copied into a queue the recorder never
// waits on: when decoding or the backend falls behind, records are
// dropped from the export (counted), never from the capture.
type liveExport struct {
	url     string
	recs    chan *capfile.Record
	dropped atomic.Uint64
	sink    *export.Sink
	conv    *export.Converter
	done    chan struct{}
}

// startLiveExport starts exporting to the OTLP collector at url.
func startLiveExport(ctx context.Context, url string, start time.Time) (*liveExport, error) {
	exp, err := export.NewOTLP(ctx, url)
	if err != nil {
		return nil, err
	}
	quietOTel()
	host, _ := os.Hostname()
	l := &liveExport{url: url, recs: make(chan *capfile.Record, 8192), done: make(chan struct{})}
	l.sink = export.NewSink(exp, export.SinkOptions{})
	l.conv = export.NewConverter(l.sink, export.Config{
		Source: "record\x00" + host + "\x00" + strconv.FormatInt(start.UnixNano(), 10), Node: host})
	go l.run()
	return l, nil
}

// record queues a copy of rec, which the recorder recycles.
func (l *liveExport) record(rec *capfile.Record) {
	c := *rec
	c.Data = bytes.Clone(rec.Data)
	select {
	case l.recs <- &c:
	default:
		l.dropped.Add(1)
	}
}

// Next hands the queued records to the decoder.
func (l *liveExport) Next() (*capfile.Record, error) {
	r, ok := <-l.recs
	if !ok {
		return nil, io.EOF
	}
	return r, nil
}

func (l *liveExport) run() {
	defer close(l.done)
	d := decode.NewReader(l, decode.Options{})
	for {
		m, err := d.Next()
		if err != nil {
			break // io.EOF: the recording ended; decode errors are in the capture too
		}
		l.conv.Add(m)
	}
	l.conv.Close()
}

// finish sends the last spans and prints what was exported; the error
// says the backend refused spans.
func (l *liveExport) finish(stderr io.Writer) error {
	close(l.recs)
	<-l.done
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	shutErr := l.sink.Shutdown(ctx)
	st := l.sink.Stats()
	fmt.Fprintf(stderr, "otlp: %d spans exported to %s, %d failed, %d dropped; %d records not exported (queue full)\n",
		st.Exported, l.url, st.Failed, st.Dropped(), l.dropped.Load())
	switch {
	case st.Err != nil:
		return fmt.Errorf("otlp: %w", st.Err)
	case shutErr != nil:
		return fmt.Errorf("otlp: %w", shutErr)
	}
	return nil
}

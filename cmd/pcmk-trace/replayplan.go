package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/replay"
)

// readReplayCapture reads and rebuilds a capture; damage is reported and left out.
func readReplayCapture(name string, stderr io.Writer) (*replay.Capture, error) {
	var in io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	c, err := replay.ReadCapture(bufio.NewReaderSize(in, 1<<20))
	switch {
	case c == nil && err != nil: // not even a section header: an empty or foreign file
		return nil, fmt.Errorf("%s: %w", name, err)
	case errors.Is(err, capfile.ErrTruncated):
		fmt.Fprintf(stderr, "pcmk-trace: %s: %v (was the recorder killed?); replaying what it holds\n", name, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if c.Stats.Errors > 0 || c.Stats.Lost > 0 {
		fmt.Fprintf(stderr, "pcmk-trace: %s: %d messages could not be decoded, %d lost by the recorder; their requests are not replayed\n",
			name, c.Stats.Errors, c.Stats.Lost)
	}
	return c, nil
}

func describeSkipped(s replay.Skipped) string {
	proxied := ""
	if s.Proxied > 0 {
		proxied = fmt.Sprintf(" (%d the controller relaying remote nodes' clients)", s.Proxied)
	}
	return fmt.Sprintf("left out: %d connections of daemons (--all-clients)%s, %d of other services, %d filtered",
		s.Daemons, proxied, s.NotPacemaker, s.Filtered)
}

// printPlan writes what a replay would send: one line per request and its XML, or one
// JSON object per request.
func printPlan(w io.Writer, steps []replay.Step, skipped replay.Skipped, format string) error {
	bw := bufio.NewWriter(w)
	if format == "json" {
		enc := json.NewEncoder(bw)
		enc.SetEscapeHTML(false)
		for _, s := range steps {
			ex := s.Exchange
			action := "send"
			if s.Refused {
				action = "refuse"
			}
			if err := enc.Encode(map[string]any{
				"offset_ns": int64(s.Offset), "conn": ex.Conv.Conn, "service": ex.Conv.Service, "comm": ex.Conv.Comm,
				"seq": ex.Request.Seq, "op": ex.Request.Op, "class": ex.Class.String(), "action": action,
				"flags": uint32(ex.Request.Flags), "replies": len(ex.Replies()), "xml": string(ex.Request.XML),
			}); err != nil {
				return err
			}
		}
		return bw.Flush()
	}
	for _, s := range steps {
		ex := s.Exchange
		action := "send"
		if s.Refused {
			action = "REFUSE (a write; --allow-writes sends it)"
		}
		fmt.Fprintf(bw, "+%.6fs %s %s %s[%d] %s (%s): %s\n", s.Offset.Seconds(), ex.Conv.Service, ex.Conv.Conn,
			ex.Conv.Comm, ex.Conv.PID, ex.Request.Op, ex.Class, action)
		fmt.Fprintf(bw, "    %s\n", ex.Request.XML)
	}
	fmt.Fprintf(bw, "%d requests; %s\n", len(steps), describeSkipped(skipped))
	fmt.Fprintf(bw, "Client ids handed out at sign-on are put into later requests when they are sent.\n")
	return bw.Flush()
}

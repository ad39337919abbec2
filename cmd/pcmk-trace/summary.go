package main

import (
	"fmt"
	"sort"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/capture"
)

// summary prints what the run recorded and lost, and the probe counters, on standard error.
func (r *recorder) summary(s capture.Stats, d time.Duration) {
	w := r.stderr
	fmt.Fprintf(w, "%d messages, %s in %s; %d lost", r.messages, formatBytes(r.bytes), d.Round(time.Millisecond), s.LostTotal())
	switch r.o.output {
	case "":
	case "-":
		fmt.Fprint(w, "; written to standard output")
	default:
		fmt.Fprintf(w, "; written to %s", r.o.output)
	}
	fmt.Fprintln(w)
	if r.redactor != nil {
		rs := r.redactor.Stats()
		fmt.Fprintf(w, "redacted %d values in %d messages (%d recompressed, %d multipart)\n", rs.Values, rs.Changed, rs.Recompressed, rs.Reassembled)
		warnRedaction(w, "record", rs)
	}
	keys := make([]flowKey, 0, len(r.perKey))
	for k := range r.perKey {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.service != b.service {
			return a.service < b.service
		}
		if a.rx != b.rx {
			return !a.rx
		}
		return a.channel < b.channel
	})
	if len(keys) > 0 {
		fmt.Fprintf(w, "  %-16s %-12s %10s %12s\n", "service", "channel", "messages", "bytes")
	}
	for _, k := range keys {
		c := r.perKey[k]
		ch := k.channel.String()
		if k.rx {
			ch += " (rx)"
		}
		fmt.Fprintf(w, "  %-16s %-12s %10d %12d\n", k.service, ch, c.messages, c.bytes)
	}
	causes := make([]capfile.LossCause, 0, len(s.Lost))
	for c := range s.Lost {
		causes = append(causes, c)
	}
	sort.Slice(causes, func(i, j int) bool { return causes[i] < causes[j] })
	for _, c := range causes {
		fmt.Fprintf(w, "  lost: %d (%s)\n", s.Lost[c], lossText(c))
	}
	fmt.Fprintf(w, "  probe hits: %d qb_rb_chunk_commit (%d on other rings), %d socket sends, %d lifecycle; %d messages filtered out",
		s.CommitHits, s.OtherRings, s.SocketHits, s.LifecycleHits, s.Filtered)
	if r.o.rx {
		fmt.Fprintf(w, ", %d receive side", s.RXHits)
	}
	fmt.Fprintln(w)
	if s.Truncated > 0 {
		fmt.Fprintf(w, "  truncated at the copy limit: %d\n", s.Truncated)
	}
}

// lossText says what a loss cause means, and what to do about it when something can be done.
func lossText(c capfile.LossCause) string {
	if c == capfile.LossRingFull {
		return c.Sentence() + ": raise --ring-size"
	}
	return c.Sentence()
}

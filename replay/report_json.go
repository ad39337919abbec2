package replay

import (
	"encoding/json"
	"io"
)

// The JSON report; JSON.md documents its keys.
type jsonReport struct {
	Conversations int          `json:"conversations"`
	Loops         int          `json:"loops"`
	ElapsedNS     int64        `json:"elapsed_ns"`
	Skipped       jsonSkipped  `json:"skipped"`
	Totals        jsonCounts   `json:"totals"`
	Ops           []jsonOp     `json:"ops"`
	Results       []jsonResult `json:"results"`
}

type jsonSkipped struct {
	NotPacemaker int `json:"not_pacemaker"`
	Daemons      int `json:"daemons"`
	Proxied      int `json:"proxied"`
	Filtered     int `json:"filtered"`
}

type jsonCounts struct {
	Requests  int `json:"requests"`
	Sent      int `json:"sent"`
	Answered  int `json:"answered"`
	Matched   int `json:"matched"`
	Diverged  int `json:"diverged"`
	Failed    int `json:"failed"`
	Refused   int `json:"refused"`
	Unchecked int `json:"unchecked"`
}

type jsonOp struct {
	Service string `json:"service"`
	Op      string `json:"op"`
	Class   string `json:"class"`
	jsonCounts
	RecordedP50 int64 `json:"recorded_p50_ns"`
	RecordedP99 int64 `json:"recorded_p99_ns"`
	ReplayedP50 int64 `json:"replayed_p50_ns"`
	ReplayedP99 int64 `json:"replayed_p99_ns"`
}

type jsonResult struct {
	Loop              int        `json:"loop"`
	Seq               uint64     `json:"seq"`
	Packet            int        `json:"packet,omitempty"`
	Conn              string     `json:"conn"`
	Service           string     `json:"service"`
	Op                string     `json:"op"`
	Comm              string     `json:"comm"`
	Class             string     `json:"class"`
	OffsetNS          int64      `json:"offset_ns"`
	Outcome           string     `json:"outcome"`
	Sent              bool       `json:"sent"`
	Answered          bool       `json:"answered"`
	Error             string     `json:"error,omitempty"`
	RecordedLatencyNS int64      `json:"recorded_latency_ns"`
	LatencyNS         int64      `json:"latency_ns"`
	Diffs             []jsonDiff `json:"diffs,omitempty"`
}

type jsonDiff struct {
	Reply    string `json:"reply"`
	Kind     string `json:"kind"`
	Path     string `json:"path"`
	Recorded string `json:"recorded"`
	Live     string `json:"live"`
}

func toJSONCounts(c Counts) jsonCounts {
	return jsonCounts(c)
}

// WriteJSON writes the report as one JSON object (JSON.md lists the keys), every
// request included.
func (r *Report) WriteJSON(w io.Writer) error {
	j := jsonReport{
		Conversations: r.Conversations, Loops: r.Loops, ElapsedNS: int64(r.Elapsed),
		Skipped: jsonSkipped{r.Skipped.NotPacemaker, r.Skipped.Daemons, r.Skipped.Proxied, r.Skipped.Filtered},
		Totals:  toJSONCounts(r.Totals),
		Ops:     []jsonOp{},
		Results: []jsonResult{},
	}
	for _, o := range r.Ops {
		j.Ops = append(j.Ops, jsonOp{
			Service: o.Service, Op: o.Op, Class: o.Class.String(), jsonCounts: toJSONCounts(o.Counts),
			RecordedP50: int64(o.Recorded.P50), RecordedP99: int64(o.Recorded.P99),
			ReplayedP50: int64(o.Replayed.P50), ReplayedP99: int64(o.Replayed.P99),
		})
	}
	for _, res := range r.Results {
		jr := jsonResult{
			Loop: res.Loop, Seq: res.Seq, Packet: res.Packet, Conn: res.Conn, Service: res.Service,
			Op: res.Op, Comm: res.Comm, Class: res.Class.String(), OffsetNS: int64(res.Offset),
			Outcome: string(res.Outcome), Sent: res.Sent, Answered: res.Answered,
			RecordedLatencyNS: int64(res.RecordedLatency), LatencyNS: int64(res.Latency),
		}
		if res.Err != nil {
			jr.Error = res.Err.Error()
		}
		for _, d := range res.Diffs {
			jr.Diffs = append(jr.Diffs, jsonDiff{d.Reply, string(d.Kind), d.Path, d.Recorded, d.Live})
		}
		j.Results = append(j.Results, jr)
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(j)
}

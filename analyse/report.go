package analyse

import (
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// ReportOptions set what a [Report] collects. The zero value of a field
// means the default.
type ReportOptions struct {
	Config Config // the tables' aggregator

	// FlowMax caps the arrows of the busiest second's flow diagram (default 300).
	FlowMax int
	// TopOps is how many operations, by requests, get a latency chart (default 6).
	TopOps int
	// Backlogs is how many connections the backlog chart draws, largest first (default 8).
	Backlogs int
}

// Report collects, from a stream of decoded messages, the tables of an
// [Aggregator] and what the HTML report draws beside them: the backlog of
// each connection over time and the flow diagram of the busiest second.
// Its memory is bounded like the Aggregator's. It is not safe for
// concurrent use.
type Report struct {
	opts    ReportOptions
	agg     *Aggregator
	backlog backlogTable
	busy    busiestSecond
	rate    rateSeries
}

// reportBacklogConns bounds the connections whose backlog is followed.
const reportBacklogConns = 4096

// reportBacklogPoints bounds the intervals of a connection's backlog series.
const reportBacklogPoints = 1000

// NewReport returns an empty Report.
func NewReport(opts ReportOptions) *Report {
	if opts.FlowMax <= 0 {
		opts.FlowMax = 300
	}
	if opts.TopOps <= 0 {
		opts.TopOps = 6
	}
	if opts.Backlogs <= 0 {
		opts.Backlogs = 8
	}
	return &Report{
		opts:    opts,
		agg:     New(opts.Config),
		backlog: newBacklogTable(100*time.Millisecond, reportBacklogPoints, reportBacklogConns),
		busy:    newBusiestSecond(opts.FlowMax),
		rate:    newRateSeries(reportRatePoints),
	}
}

// Aggregator returns the aggregator behind the report's tables.
func (r *Report) Aggregator() *Aggregator { return r.agg }

// Add accounts for one message.
func (r *Report) Add(m *decode.Message) {
	r.agg.Add(m)
	r.backlog.add(m)
	r.busy.add(m)
	r.rate.add(m)
}

// Backlogs returns the event backlog over time of the connections whose
// receive side was recorded, largest backlog first.
func (r *Report) Backlogs() []BacklogSeries { return r.backlog.series() }

// BusiestSecond returns the flow diagram of the whole second of capture
// time with the most messages sent, that second and its message count;
// nil if no message had a time.
func (r *Report) BusiestSecond() (f *Flow, at time.Time, messages int) {
	b := &r.busy
	best, sec, n := b.best, b.bestSec, b.bestN
	if b.cur != nil && b.count > n {
		best, sec, n = b.cur, b.sec, b.count
	}
	if best == nil {
		return nil, time.Time{}, 0
	}
	return best.Flow(), time.Unix(sec, 0), n
}

// ReportInfo says what the report is about, for its header.
type ReportInfo struct {
	File      string              // the capture's name
	Section   capfile.SectionInfo // the capture's section header
	Generator string              // the program that wrote the report, with its version
	Location  *time.Location      // for the times shown; nil is the local time zone
}

// reportRatePoints bounds the points of the rate chart's series: more make
// a spiky chart of a short capture.
const reportRatePoints = 100

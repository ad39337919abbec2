// Package analyse turns decode's message stream into the tables of
// `pcmk-trace stats`: per operation response times (ops), per client
// conversations (clients), per connection event backlog (connections),
// message rate over time (rate), message sizes (sizes), CIB notification
// fan-out (fanout), and what the capture is missing (loss).
//
// An [Aggregator] is fed one [decode.Message] at a time with Add and can
// be asked for its tables at any point, so the same code serves a
// finished capture and a live view. It never sees capture records, only
// decoded messages.
//
// Memory stays bounded however long the capture: latencies go into an
// HDR histogram per service and operation (3 significant digits: a
// percentile is at most 0.1% above the true value of its rank; minimum,
// maximum and sum are exact), the requests waiting for a reply are capped
// (Config.MaxInFlight, the excess counted as dropped in the loss table),
// the rate table halves its resolution instead of growing past
// Config.MaxIntervals, and the fan-out table keeps the largest changes.
// Per-key state (services, operations, clients, connections) grows with
// the distinct values the capture holds.
//
// Tables come as typed rows (Ops, Clients, ...) and as generic [Table]s
// that [WriteText], [WriteJSON] and [WriteCSV] print; the JSON keys are a
// stable contract, documented in JSON.md.
//
// Flow diagrams: a [FlowBuilder] takes the same messages and builds a
// [Flow], a sequence diagram with one lifeline per process (daemons first,
// in a fixed order, then corosync, then clients) and one arrow per message.
// Requests are drawn paired with their answers, events differently,
// failures highlighted, and loss records as markers. It keeps at most Max
// arrows and counts the rest, or selects one message's conversation and
// what followed it (Around, Window). [WriteFlowSVG], [WriteFlowText],
// [WriteFlowMermaid] and [WriteFlowPlantUML] write it out; the SVG gives
// every arrow a hover title with the message's details.
package analyse

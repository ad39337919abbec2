// Package export turns decoded Pacemaker IPC messages into OpenTelemetry
// spans, for a tracing backend such as Jaeger or Grafana Tempo fed over
// OTLP. It reads [decode.Message] values only: it never records.
//
// # Spans
//
// Every request becomes two spans with the recorded timestamps: a CLIENT
// span on the caller's process and a SERVER span on the daemon's, the
// child of the CLIENT span. Both start at the request's time and end at
// its answer's: the reply, or the event that answers it (an execd
// completion, a controller's reply after its ack). A request that was
// only acknowledged ends at the ack once no answering event came within
// [Config.AckWait]. A request that expected an answer and got none ends
// [Config.PendingTimeout] later, or at the last time seen, with an error
// status "unanswered"; one that
// expected none (a one-way request, a corosync request whose reply is
// optional) is a zero-length pair. The status is an error when the answer
// says something failed: a negative rc, a nack, or an undecodable message.
//
// Notifications and events that answer no request (CIB and fencer
// notifications, execd's lrmd_notify, ...) are short spans of their own:
// zero-length PRODUCER spans on the sending process, children of whatever
// caused them (below). Span events would hide them inside a span that
// may have ended long before; spans of their own show who sent what to
// whom and can carry the chain further.
//
// Each process is a resource: service.name is the daemon or command name
// (the kernel's 15-byte comm completed: pacemaker-contr is
// pacemaker-controld), with process.pid, process.command and host.name,
// the node. Span attributes carry the operation, libqb service, qb id,
// sizes, flags, rc, call id, connection, node and the capture's sequence
// numbers (attrs.go lists them).
//
// # Traces
//
// A trace is one change: a request and what it caused. The rule, applied
// to each request and each unrequested notification or event as it is
// seen, first match wins:
//
//  1. A copy of a cluster-wide message (a CPG message delivered on every
//     node: the copies share an identity, decode's cluster_msg of a
//     merged capture or [Config.ClusterMsgOf]) joins the trace of the
//     first copy seen, as its child: in a merged capture the send comes
//     first, so every delivery hangs under the send.
//  2. A message sent by a process within [Config.Window] after that
//     process received a request or a notification joins that cause's
//     trace, as the child of the request's SERVER span or of the
//     notification's span. The chain stops after [Config.MaxDepth] hops.
//  3. A request of a command-line tool (a process that is not one of
//     Pacemaker's daemons or corosync) whose previous request, on any
//     connection, was at most [Config.ConversationGap] ago joins that
//     request's trace, as another root: one trace per tool conversation
//     (crm_resource's sign-on, CIB query and controller request).
//  4. Anything else starts a trace of its own.
//
// So a crm_attribute run is one trace: its requests to attrd, attrd's
// cib_modify, based's notifications and the controller's reaction when
// they come within the window. Rule 1 is what carries a change across
// nodes: once decode marks the copies of one CPG message (a merged
// capture) the deliveries on the other nodes, and through rule 2 what they
// cause there, join the sender's trace. On a busy daemon rule 2 may blame
// the wrong cause: a window of a few milliseconds keeps that rare.
//
// # Identifiers
//
// Trace and span ids are derived from [Config.Source] (which names the
// capture) and the messages' sequence numbers by hashing, never drawn at
// random, so exporting the same capture twice yields the same ids (a
// backend that deduplicates, such as Tempo, keeps one copy). The SDK's tracer gets them through an
// [sdktrace.IDGenerator] that reads them from the context.
package export

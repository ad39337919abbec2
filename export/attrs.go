package export

import (
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Span attribute keys. rpc.* follow OpenTelemetry's RPC conventions; the
// rest are pcmk-trace's, named like decode's JSON keys.
const (
	keyRPCSystem  = attribute.Key("rpc.system")  // "libqb"
	keyRPCService = attribute.Key("rpc.service") // the libqb service: cib_rw, crmd, ...
	keyRPCMethod  = attribute.Key("rpc.method")  // the operation
	keyNode       = attribute.Key("pcmk.node")
	keyConn       = attribute.Key("pcmk.conn")
	keyQBID       = attribute.Key("pcmk.qb_id")
	keyFlags      = attribute.Key("pcmk.flags")
	keyCallID     = attribute.Key("pcmk.call_id")
	keyClientPID  = attribute.Key("pcmk.client_pid") // as in the connection name
	keyServerPID  = attribute.Key("pcmk.server_pid")
	keyProxiedFor = attribute.Key("pcmk.proxied_for")
	keyReqSeq     = attribute.Key("pcmk.request.seq") // the capture's sequence numbers
	keyReqSize    = attribute.Key("pcmk.request.size")
	keyRepSeq     = attribute.Key("pcmk.reply.seq")
	keyRepSize    = attribute.Key("pcmk.reply.size")
	keyRepRole    = attribute.Key("pcmk.reply.role") // reply, ack or event
	keyPairedBy   = attribute.Key("pcmk.paired_by")
	keyRC         = attribute.Key("pcmk.rc")
	keyOneWay     = attribute.Key("pcmk.one_way") // no answer was expected
	keySeq        = attribute.Key("pcmk.seq")     // a notification's sequence number
	keySize       = attribute.Key("pcmk.size")
	keyRole       = attribute.Key("pcmk.role")
	keyReceiver   = attribute.Key("pcmk.receiver_pid")
)

// spanName is what a span of m is called: the operation, or the libqb
// service and id when the message has none (corosync).
func spanName(m *decode.Message) string {
	if m.Op != "" {
		return m.Op
	}
	return m.Service + " id=" + strconv.Itoa(int(m.QBID))
}

// requestAttrs are the attributes of both spans of request m, on node.
func requestAttrs(m *decode.Message, node string) []attribute.KeyValue {
	a := []attribute.KeyValue{
		keyRPCSystem.String("libqb"),
		keyRPCService.String(m.Service),
		keyRPCMethod.String(spanName(m)),
		keyNode.String(node),
		keyConn.String(m.Conn),
		keyQBID.Int(int(m.QBID)),
		keyClientPID.Int(int(m.ClientPID)),
		keyServerPID.Int(int(m.ServerPID)),
		keyReqSeq.Int64(int64(m.Seq)),
		keyReqSize.Int(m.Size),
	}
	if m.Flags != 0 {
		a = append(a, keyFlags.StringSlice(m.Flags.Names(m.Dialect)))
	}
	if m.CallID != "" {
		a = append(a, keyCallID.String(m.CallID))
	}
	if m.ProxiedFor != "" {
		a = append(a, keyProxiedFor.String(m.ProxiedFor))
	}
	return a
}

// answerAttrs are the attributes an answer adds to its request's spans.
func answerAttrs(ans *decode.Message) []attribute.KeyValue {
	a := []attribute.KeyValue{
		keyRepSeq.Int64(int64(ans.Seq)),
		keyRepSize.Int(ans.Size),
		keyRepRole.String(ans.Role.String()),
	}
	if ans.ReplyTo != nil {
		a = append(a, keyPairedBy.String(ans.ReplyTo.By))
	}
	if ans.RC != "" {
		a = append(a, keyRC.String(ans.RC))
	}
	return a
}

// messageAttrs are the attributes of a notification's span.
func messageAttrs(m *decode.Message, node string, receiver uint32) []attribute.KeyValue {
	a := []attribute.KeyValue{
		keyRPCSystem.String("libqb"),
		keyRPCService.String(m.Service),
		keyRPCMethod.String(spanName(m)),
		keyNode.String(node),
		keyConn.String(m.Conn),
		keyQBID.Int(int(m.QBID)),
		keySeq.Int64(int64(m.Seq)),
		keySize.Int(m.Size),
		keyRole.String(m.Role.String()),
		keyReceiver.Int(int(receiver)),
	}
	if m.Flags != 0 {
		a = append(a, keyFlags.StringSlice(m.Flags.Names(m.Dialect)))
	}
	if m.CallID != "" {
		a = append(a, keyCallID.String(m.CallID))
	}
	if m.RC != "" {
		a = append(a, keyRC.String(m.RC))
	}
	return a
}

// failed reports whether m says something failed, and why. Pacemaker's
// return codes are negative errno values; positive ones are not failures
// (execd's call ids, an ack's 112, an agent's exit status).
func failed(m *decode.Message) (bool, string) {
	switch {
	case m.Err != nil:
		return true, "undecodable: " + m.Err.Error()
	case m.Root == "nack":
		return true, "nack"
	}
	if rc, err := strconv.Atoi(m.RC); err == nil && rc < 0 {
		return true, "rc=" + m.RC
	}
	return false, ""
}

// status returns the span status an answer gives.
func status(ans *decode.Message) (codes.Code, string) {
	if bad, why := failed(ans); bad {
		return codes.Error, why
	}
	return codes.Unset, ""
}

package capfile

import "strconv"

// The names are short lower-case tokens, fit for packet comments, text
// output and JSON values. Unknown values print as Type(N), since a newer
// recorder may write values this reader does not know.

var kindNames = [...]string{
	KindMessage:    "message",
	KindConnect:    "connect",
	KindDisconnect: "disconnect",
	KindLoss:       "loss",
}

func (k Kind) String() string { return name(kindNames[:], uint64(k), "Kind") }

var channelNames = [...]string{
	ChannelNone:     "none",
	ChannelRequest:  "request",
	ChannelResponse: "response",
	ChannelEvent:    "event",
}

func (c Channel) String() string { return name(channelNames[:], uint64(c), "Channel") }

var transportNames = [...]string{
	TransportUnknown: "unknown",
	TransportSHM:     "shm",
	TransportSocket:  "socket",
}

func (t Transport) String() string { return name(transportNames[:], uint64(t), "Transport") }

var hookNames = [...]string{
	HookNone:       "none",
	HookRBCommit:   "rb-commit",
	HookSockSend:   "sock-send",
	HookRBPeek:     "rb-peek",
	HookRBRead:     "rb-read",
	HookSockRecv:   "sock-recv",
	HookConnect:    "connect",
	HookDisconnect: "disconnect",
}

func (h Hook) String() string { return name(hookNames[:], uint64(h), "Hook") }

// Loss causes are named with underscores, as decode's JSON output has
// always named them.
var lossCauseNames = [...]string{
	LossUnknown:    "unknown",
	LossRingFull:   "ring_full",
	LossCopyFailed: "copy_failed",
	LossTooLarge:   "too_large",
	LossReassembly: "reassembly",
}

// String returns the short name of c: "unknown", "ring_full",
// "copy_failed", "too_large" or "reassembly".
func (c LossCause) String() string { return name(lossCauseNames[:], uint64(c), "LossCause") }

var lossCauseSentences = [...]string{
	LossUnknown:    "probe runs skipped by the kernel: another BPF program was running",
	LossRingFull:   "ring buffer full",
	LossCopyFailed: "could not read the message from the writer's memory",
	LossTooLarge:   "message in too many pieces",
	LossReassembly: "pieces that did not fit a message",
}

// Sentence says for people what c means; a cause this reader does not know
// is given by its String.
func (c LossCause) Sentence() string {
	if int(c) < len(lossCauseSentences) {
		return lossCauseSentences[c]
	}
	return c.String()
}

var flagNames = [...]string{"truncated", "more", "cont", "rx"}

// String joins the names of the set flags with "|", unknown bits in hex;
// no flags print as "0".
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var b []byte
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			if len(b) > 0 {
				b = append(b, '|')
			}
			b = append(b, n...)
		}
	}
	if rest := f &^ (1<<len(flagNames) - 1); rest != 0 {
		if len(b) > 0 {
			b = append(b, '|')
		}
		b = append(b, "0x"...)
		b = strconv.AppendUint(b, uint64(rest), 16)
	}
	return string(b)
}

func name(names []string, v uint64, typ string) string {
	if v < uint64(len(names)) && names[v] != "" {
		return names[v]
	}
	return typ + "(" + strconv.FormatUint(v, 10) + ")"
}

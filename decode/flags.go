package decode

import "github.com/pcmk-trace/pcmk-trace/pcmk"

// Flags are the crm_ipc_flags of a Pacemaker envelope (protocol.md 7.4):
// [pcmk.Flags].
type Flags = pcmk.Flags

// Flag bits; see [pcmk.Flags].
const (
	FlagCompressed           = pcmk.FlagCompressed
	FlagProxied              = pcmk.FlagProxied
	FlagClientResponse       = pcmk.FlagClientResponse
	FlagServerEvent          = pcmk.FlagServerEvent
	FlagServerFree           = pcmk.FlagServerFree
	FlagProxiedRelayResponse = pcmk.FlagProxiedRelayResponse
	FlagMultipart            = pcmk.FlagMultipart
	FlagMultipartEnd         = pcmk.FlagMultipartEnd
	FlagServerInfo           = pcmk.FlagServerInfo
	FlagServerError          = pcmk.FlagServerError
)

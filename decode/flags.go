package decode

import "github.com/pcmk-trace/pcmk-trace/pcmk"

// Flags are the crm_ipc_flags of a Pacemaker envelope (docs/protocol.md 6.5):
// [pcmk.Flags], whose constants name the bits.
type Flags = pcmk.Flags

package decode

import "github.com/pcmk-trace/pcmk-trace/pcmk"

// Header sizes for the test generators.
const (
	requestHeaderLen  = pcmk.RequestHeaderLen
	responseHeaderLen = pcmk.ResponseHeaderLen
	envelopeLen       = pcmk.EnvelopeLen
)

package pcmk

import (
	"errors"
	"fmt"
)

// Sentinel errors for the ways a message can be malformed; test with
// errors.Is. Errors of this package wrap one of them with detail.
var (
	ErrShortHeader = errors.New("pcmk: short header")
	ErrSize        = errors.New("pcmk: libqb size disagrees with message length")
	ErrEnvelope    = errors.New("pcmk: not a pacemaker envelope")
	ErrVersion     = errors.New("pcmk: unsupported envelope version")
	ErrLength      = errors.New("pcmk: payload length disagrees with envelope")
	ErrNUL         = errors.New("pcmk: payload does not end in NUL")
	ErrBzip2       = errors.New("pcmk: corrupt bzip2 payload")
	ErrTooLarge    = errors.New("pcmk: message exceeds size limit")
	ErrMultipart   = errors.New("pcmk: broken multipart sequence")
)

// Fail returns an error wrapping sentinel with detail, the form every error
// of this package takes.
func Fail(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

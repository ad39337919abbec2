//go:build linux && amd64

package capture

import (
	"testing"

	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// TestMain stops the test clusters this package's tests brought up.
func TestMain(m *testing.M) { testcluster.Main(m) }

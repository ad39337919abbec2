//go:build !(linux && amd64)

package capture

// Probes returns 0: nothing is attached where recording is not supported.
func (t *Tracer) Probes() int { return 0 }

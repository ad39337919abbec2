//go:build linux && amd64

package capture

// Probes returns how many probes and tracepoints Open attached.
func (t *Tracer) Probes() int { return len(t.links) }

// Package capture records libqb IPC messages (Pacemaker, corosync) with eBPF.
//
// [Open] loads the programs built from bpf/ipc.c, attaches a uprobe to
// qb_rb_chunk_commit in every libqb found (shared-memory transport, one probe
// hit per message), syscall tracepoints filtered on libqb's datagram sockets
// (socket transport), and a few probes that run once per connection
// (connect, disconnect). [Tracer.Read] returns one [capfile.Record] per
// message, whole, with the identity of the process that wrote it; messages
// that could not be recorded are counted and returned as loss records.
//
// Usage:
//
//	t, err := capture.Open(capture.Config{Services: []string{"cib_rw"}})
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	for {
//		rec, err := t.Read(ctx)
//		if errors.Is(err, io.EOF) {
//			break // ctx is done and the ring buffer is drained
//		}
//		if err != nil {
//			return err
//		}
//		// use rec
//	}
//
// Capture needs Linux on x86_64 and root: CAP_BPF and CAP_PERFMON for the
// programs and probes, and CAP_SYS_ADMIN to read every process's mappings
// and, when tracefs is not mounted, to mount it in a private mount namespace
// of one thread. On other systems Open returns [ErrUnsupported].
package capture

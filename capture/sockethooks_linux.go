//go:build linux && amd64

package capture

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"
)

// startSocketHooks attaches the socket transport's syscall hooks now when a
// process owns libqb datagram sockets, else waits for the first process of
// that transport (the notices the qb_ipcs_us_init and qb_ipcc_us_connect
// probes send) and attaches them then. Empty programs send no notice: the
// floor of the benchmarks attaches everything at once.
func (t *Tracer) startSocketHooks(cfg Config) error {
	if cfg.NoSocket {
		t.noSocket = true
		return nil
	}
	if cfg.EmptyPrograms || len(socketOwners()) > 0 {
		return t.attachSyscalls(cfg.RX)
	}
	rd, err := ringbuf.NewReader(t.coll.Maps[ipcMapNotices])
	if err != nil {
		return fmt.Errorf("open the socket transport's notices: %w", err)
	}
	t.notices, t.noticesDone = rd, make(chan struct{})
	go func() {
		defer close(t.noticesDone)
		n, err := awaitNotice(rd)
		if err != nil {
			return // closed: the tracer ends
		}
		st := SocketTransport{PID: n.Pid, Comm: new(interner).get(n.Comm[:])}
		st.Err = t.attachSyscalls(cfg.RX)
		var now unix.Timespec
		if unix.ClockGettime(unix.CLOCK_MONOTONIC, &now) == nil {
			st.Delay = time.Duration(now.Nano() - int64(n.Ktime))
		}
		if cfg.OnSocketTransport != nil {
			cfg.OnSocketTransport(st)
		}
	}()
	return nil
}

// awaitNotice returns the first notice, or an error once rd is closed.
func awaitNotice(rd *ringbuf.Reader) (ipcIpcNotice, error) {
	var n ipcIpcNotice
	for {
		rec, err := rd.Read()
		if errors.Is(err, ringbuf.ErrClosed) {
			return n, err
		}
		if err != nil || binary.Read(bytes.NewReader(rec.RawSample), binary.LittleEndian, &n) != nil {
			continue // a short record: wait for the next
		}
		return n, nil
	}
}

// SocketHooks reports whether the socket transport's syscall hooks are attached.
func (t *Tracer) SocketHooks() bool { return t.socketHooks.Load() }

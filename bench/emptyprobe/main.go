//go:build linux

// Command emptyprobe attaches every hook pcmk-trace record attaches (the uprobes on libqb, the
// socket transport's syscall tracepoints, the process tracepoints), found and attached by the
// recorder's own code, but with BPF programs that do nothing, and holds them until SIGINT or
// SIGTERM: what the hooks alone cost, the floor of any recorder on them.
//
//	emptyprobe [-ready FILE] [-no-socket] [-entry] [LIBQB...]
//
// Without LIBQB it probes every libqb that record would find. -entry puts every uprobe on
// its function's first instruction, as uprobes usually are, instead of where record puts it
// (capture.Config.ProbeAtEntry).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/pcmk-trace/pcmk-trace/capture"
)

func main() {
	ready := flag.String("ready", "", "create `FILE` once attached")
	noSocket := flag.Bool("no-socket", false, "leave out the socket transport's tracepoints, as record --no-socket does")
	entry := flag.Bool("entry", false, "probe every function at its first instruction")
	flag.Parse()
	cfg := capture.Config{LibQB: flag.Args(), NoSocket: *noSocket, ProbeAtEntry: *entry, EmptyPrograms: true}
	if err := run(*ready, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "emptyprobe:", err)
		os.Exit(1)
	}
}

func run(ready string, cfg capture.Config) error {
	t, err := capture.Open(cfg)
	if err != nil {
		return err
	}
	defer t.Close()
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	if n := t.Stats().Messages; n != 0 {
		return fmt.Errorf("empty programs recorded %d messages", n)
	}
	return nil
}

//go:build linux

// Command emptyprobe attaches an empty BPF program to the hook pcmk-trace record uses for
// shared-memory messages (qb_rb_chunk_commit of the given libqb files) and holds it until
// SIGINT or SIGTERM: the cost of the uprobe trap alone, the floor of any uprobe recorder.
//
//	emptyprobe [-ready FILE] LIBQB...
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

func main() {
	ready := flag.String("ready", "", "create `FILE` once attached")
	flag.Parse()
	if err := run(*ready, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "emptyprobe:", err)
		os.Exit(1)
	}
}

func run(ready string, libs []string) error {
	if len(libs) == 0 {
		return fmt.Errorf("name at least one libqb file")
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.Kprobe,
		License:      "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()},
	})
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer prog.Close()
	var links []link.Link
	defer func() {
		for _, l := range links {
			l.Close()
		}
	}()
	for _, lib := range libs {
		ex, err := link.OpenExecutable(lib)
		if err != nil {
			return err
		}
		l, err := ex.Uprobe("qb_rb_chunk_commit", prog, nil)
		if err != nil {
			return fmt.Errorf("attach %s: %w", lib, err)
		}
		links = append(links, l)
	}
	if ready != "" {
		if err := os.WriteFile(ready, nil, 0o644); err != nil {
			return err
		}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	<-sig
	return nil
}

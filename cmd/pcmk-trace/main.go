// Command pcmk-trace records, decodes and replays Pacemaker's libqb IPC traffic.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	endProfile := startProfile(os.Stderr)
	ownProcess = true
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	endProfile()
	stop()
	if err != nil {
		var ec exitCode
		if errors.As(err, &ec) {
			if ec.err != nil {
				fmt.Fprintln(os.Stderr, "pcmk-trace:", ec.err)
			}
			os.Exit(ec.code)
		}
		fmt.Fprintln(os.Stderr, "pcmk-trace:", err)
		os.Exit(1)
	}
}

// exitCode carries a specific exit status out of run.
type exitCode struct {
	code int
	err  error // printed once, if not nil
}

func (e exitCode) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

func (e exitCode) Unwrap() error { return e.err }

// command is one subcommand: its name, a one-line summary and its entry point.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"record", "capture libqb IPC messages with eBPF into a pcapng file", runRecord},
		{"decode", "print a capture as Pacemaker messages (text, JSON lines, XML)", runDecode},
		{"stats", "tables of a capture: response times, clients, backlogs, rate, sizes, loss", runStats},
		{"top", "a live view of the node's IPC per service, operation and client, refreshed every second", runTop},
		{"flow", "draw a capture as a sequence diagram of processes (SVG, text, Mermaid, PlantUML)", runFlow},
		{"redact", "remove passwords and other secrets from a capture file", runRedact},
		{"report", "write a capture's tables, charts and busiest second as one HTML page", runReport},
		{"merge", "merge the captures of a cluster's nodes into one, their clocks aligned by CPG messages", runMerge},
		{"export", "send a capture's request/reply pairs as spans to a tracing backend (OTLP)", runExport},
		{"replay", "resend a capture's requests to a live daemon and compare the replies", runReplay},
		{"version", "print the version", runVersion},
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return nil
	}
	if args[0] == "--version" {
		return runVersion(ctx, nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	usage(stderr)
	return exitCode{2, fmt.Errorf("unknown command %q", args[0])}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "pcmk-trace records, decodes and replays Pacemaker's libqb IPC traffic.\n\n")
	fmt.Fprintf(w, "Usage:\n  pcmk-trace <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'pcmk-trace <command> -h' for a command's flags and an example.\n")
}

package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// newFlagSet returns a FlagSet for a subcommand whose -h prints usage, the flags and an example.
func newFlagSet(name, usageLine, example string, stderr io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pcmk-trace %s\n\nFlags:\n%s", usageLine, fs.FlagUsages())
		if example != "" {
			fmt.Fprintf(stderr, "\nExample:\n%s\n", example)
		}
	}
	return fs
}

// parseFlags parses args; -h yields errHelpShown so the caller returns nil (exit 0).
func parseFlags(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return errHelpShown
		}
		return exitCode{2, err}
	}
	return nil
}

var errHelpShown = errors.New("help shown")

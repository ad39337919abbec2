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

// parseFileArg parses the flags of a command that reads one capture file and returns that
// file's name; done is true when -h was shown and the command should end with status 0.
func parseFileArg(fs *pflag.FlagSet, args []string, cmd string) (file string, done bool, err error) {
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, errHelpShown) {
			return "", true, nil
		}
		return "", false, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return "", false, exitCode{2, fmt.Errorf("%s: want one capture FILE (or - for standard input)", cmd)}
	}
	return fs.Arg(0), false, nil
}

package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// flagSet is a subcommand's flags and its usage text: -h prints the usage to standard
// output (help asked for), a usage error prints it to standard error.
type flagSet struct {
	*pflag.FlagSet
	usageLine string
	example   string
	stdout    io.Writer
	stderr    io.Writer
}

// newFlagSet returns the flags of a subcommand whose -h prints usage, the flags and an example.
func newFlagSet(name, usageLine, example string, stdout, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: pflag.NewFlagSet(name, pflag.ContinueOnError), usageLine: usageLine, example: example,
		stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.SortFlags = false
	fs.Usage = func() { fs.printUsage(stdout) }
	return fs
}

func (fs *flagSet) printUsage(w io.Writer) {
	fmt.Fprintf(w, "Usage: pcmk-trace %s\n\nFlags:\n%s", fs.usageLine, fs.FlagUsages())
	if fs.example != "" {
		fmt.Fprintf(w, "\nExample:\n%s\n", fs.example)
	}
}

// usageError prints the usage to standard error and returns err as a usage error (exit status 2).
func (fs *flagSet) usageError(err error) error {
	fs.printUsage(fs.stderr)
	return exitCode{2, err}
}

// parse parses args; -h yields errHelpShown so the caller returns nil (exit 0).
func (fs *flagSet) parse(args []string) error {
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
func (fs *flagSet) parseFileArg(args []string, cmd string) (file string, done bool, err error) {
	if err := fs.parse(args); err != nil {
		if errors.Is(err, errHelpShown) {
			return "", true, nil
		}
		return "", false, err
	}
	if fs.NArg() != 1 {
		return "", false, fs.usageError(fmt.Errorf("%s: want one capture FILE (or - for standard input)", cmd))
	}
	return fs.Arg(0), false, nil
}

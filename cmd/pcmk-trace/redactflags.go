package main

import (
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/pcmk-trace/pcmk-trace/redact"
)

// redactFlags are the flags that say what is secret, shared by record
// --redact and the redact command.
type redactFlags struct {
	names      []string
	values     []string
	noDefaults bool
}

func (f *redactFlags) flags(fs *pflag.FlagSet) {
	verbatimFlag(fs, &f.names, "redact-name", "also redact attributes and nvpairs whose name matches `REGEX` (any case)")
	verbatimFlag(fs, &f.values, "redact-value", "also redact this literal `VALUE` wherever it appears in attribute values or text")
	fs.BoolVar(&f.noDefaults, "redact-no-defaults", false, "redact only what --redact-name and --redact-value give, not the default names (passw, secret, token, key, ...)")
}

// verbatimUsage ends the usage text of a list flag whose values may hold commas.
const verbatimUsage = " (repeatable; taken whole, commas included)"

// verbatimFlag defines a list flag taken by repetition only: unlike other
// list flags it does not split at commas, since a regular expression
// ({1,3}) or a password may hold one, and a split password would redact
// its pieces everywhere.
func verbatimFlag(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(&verbatimValue{list: p}, name, usage+verbatimUsage)
}

type verbatimValue struct{ list *[]string }

func (v *verbatimValue) Set(s string) error {
	if s == "" {
		return fmt.Errorf("empty value")
	}
	*v.list = append(*v.list, s)
	return nil
}

func (v *verbatimValue) String() string { return strings.Join(*v.list, " ") }
func (v *verbatimValue) Type() string   { return "strings" }

// set reports whether any redaction flag was given.
func (f *redactFlags) set() bool {
	return len(f.names) > 0 || len(f.values) > 0 || f.noDefaults
}

func (f *redactFlags) rules() redact.Rules {
	return redact.Rules{Names: f.names, Values: f.values, NoDefaults: f.noDefaults}
}

// newRedactor checks the flags and returns the Redactor they describe.
func (f *redactFlags) newRedactor(cmd string) (*redact.Redactor, error) {
	r, err := redact.New(redact.Options{Rules: f.rules()})
	if err != nil {
		return nil, exitCode{2, fmt.Errorf("%s: %w", cmd, err)}
	}
	return r, nil
}

// hideValues returns args with the values of --redact-value replaced by
// stars, for the command line a capture records: the secrets must not
// reach the file that way either.
func hideValues(args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i := 0; i < len(out); i++ {
		a := out[i]
		switch {
		case a == "--":
			return out
		case a == "--redact-value" && i+1 < len(out):
			out[i+1] = "***"
			i++
		case strings.HasPrefix(a, "--redact-value="):
			out[i] = "--redact-value=***"
		}
	}
	return out
}

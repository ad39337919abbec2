package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// listValue is the value of a list flag: every list flag of every command takes
// its values both by repetition (--pid 1 --pid 2) and as one comma-separated
// list (--pid 1,2), or both at once.
type listValue[T any] struct {
	list  *[]T
	parse func(string) (T, error)
	typ   string
}

// listUsage ends the usage text of every list flag.
const listUsage = " (repeatable, or comma-separated)"

func (v *listValue[T]) Set(s string) error {
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			return fmt.Errorf("empty value in %q", s)
		}
		x, err := v.parse(f)
		if err != nil {
			return err
		}
		*v.list = append(*v.list, x)
	}
	return nil
}

func (v *listValue[T]) String() string {
	s := make([]string, len(*v.list))
	for i, x := range *v.list {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ",")
}

func (v *listValue[T]) Type() string { return v.typ }

// stringsFlag defines a list flag of strings; the usage names its placeholder in backquotes.
func stringsFlag(fs *pflag.FlagSet, p *[]string, name, usage string) {
	fs.Var(&listValue[string]{list: p, parse: func(s string) (string, error) { return s, nil }, typ: "strings"},
		name, usage+listUsage)
}

// pidsFlag defines a list flag of process ids.
func pidsFlag(fs *pflag.FlagSet, p *[]uint32, name, usage string) {
	fs.Var(&listValue[uint32]{list: p, parse: parsePID, typ: "pids"}, name, usage+listUsage)
}

// parsePID reads a process id: a number of at most 32 bits.
func parsePID(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil {
		return 0, fmt.Errorf("invalid process id %q", s)
	}
	return uint32(n), nil
}

// byteSize is a flag value in bytes with an optional K, M or G suffix (powers of 1024).
type byteSize int

func (b *byteSize) String() string { return strconv.Itoa(int(*b)) }
func (b *byteSize) Type() string   { return "size" }

func (b *byteSize) Set(s string) error {
	mult := 1
	t := strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(s)), "B")
	t = strings.TrimSuffix(t, "I")
	switch {
	case strings.HasSuffix(t, "K"):
		mult, t = 1<<10, strings.TrimSuffix(t, "K")
	case strings.HasSuffix(t, "M"):
		mult, t = 1<<20, strings.TrimSuffix(t, "M")
	case strings.HasSuffix(t, "G"):
		mult, t = 1<<30, strings.TrimSuffix(t, "G")
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n <= 0 || n > (1<<30)/int64(mult) {
		return fmt.Errorf("invalid size %q", s)
	}
	*b = byteSize(n * int64(mult))
	return nil
}

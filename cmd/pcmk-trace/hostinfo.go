package main

import (
	"bytes"
	"os"
	"runtime"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// writerOptions builds the capture file's section header.
func (r *recorder) writerOptions(args []string) capfile.WriterOptions {
	var opts capfile.WriterOptions
	s := &opts.Section
	s.Recorder = "pcmk-trace " + version
	s.Hardware = runtime.GOARCH
	s.Kernel = kernelName()
	r.setNodeInfo(s)
	s.CommandLine = commandLine(append([]string{"pcmk-trace", "record"}, hideValues(args)...))
	if r.o.redact {
		s.Redacted = r.o.rf.rules().Describe()
	}
	for _, l := range r.t.Libraries() {
		if l.Err == nil {
			s.LibQB = append(s.LibQB, l.Version+" "+l.Name)
		}
	}
	if v := dpkgVersion("pacemaker"); v != "" {
		s.Pacemaker = append(s.Pacemaker, v)
	}
	return opts
}

// commandLine quotes args the way a shell would need them.
func commandLine(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// dpkgVersion returns the installed version of a Debian package, or "".
// Reading the status file is cheap; asking the daemons is not.
func dpkgVersion(pkg string) string {
	data, err := os.ReadFile("/var/lib/dpkg/status")
	if err != nil {
		return ""
	}
	for _, para := range bytes.Split(data, []byte("\n\n")) {
		var name, version string
		installed := false
		for _, line := range strings.Split(string(para), "\n") {
			switch {
			case strings.HasPrefix(line, "Package: "):
				name = strings.TrimPrefix(line, "Package: ")
			case strings.HasPrefix(line, "Version: "):
				version = strings.TrimPrefix(line, "Version: ")
			case strings.HasPrefix(line, "Status: "):
				installed = strings.HasSuffix(line, " installed")
			}
		}
		if name == pkg && installed {
			return version
		}
	}
	return ""
}

package capfile

import (
	"fmt"
	"strconv"
	"strings"
)

// SectionInfo describes the recording: it is kept in the pcapng section
// header, where Wireshark shows it under Statistics > Capture File Properties.
//
// Recorder, Kernel and Hardware are the standard shb_userappl, shb_os and
// shb_hardware options. The rest shares the section comment, one
// "key: value" line each, then a blank line and the free Comment (see
// FORMAT.md). Line breaks in the one-line fields are written as spaces.
type SectionInfo struct {
	Recorder    string   // recorder name and version, e.g. "pcmk-trace v0.3.0"
	Kernel      string   // operating system and kernel release, e.g. "Linux 6.1.0-18-amd64"
	Hardware    string   // machine architecture, e.g. "amd64"; libqb headers are native-endian
	Host        string   // host name (of the recorded UTS namespace)
	Node        string   // cluster node name, when the recorder could read it
	NodeID      uint32   // cluster node id, 0 when unknown
	BootID      string   // the kernel's boot id, /proc/sys/kernel/random/boot_id
	CommandLine string   // the recorder's command line
	LibQB       []string // each libqb the recorder attached to: version and path
	Pacemaker   []string // each Pacemaker version seen
	Redacted    string   // what was redacted (names, count of literal values); "" when nothing was
	Comment     string   // free text, may span lines
}

// Keys of the section comment lines.
const (
	keyHost      = "host"
	keyNode      = "node"
	keyNodeID    = "nodeid"
	keyBootID    = "boot-id"
	keyCommand   = "command"
	keyLibQB     = "libqb"
	keyPacemaker = "pacemaker"
	keyRedacted  = "redacted"
)

// maxOption is the largest pcapng option value: its length is 16 bits.
const maxOption = 1<<16 - 1

// comment returns the section comment that carries the fields without a
// standard pcapng option.
func (s *SectionInfo) comment() string {
	var b strings.Builder
	line := func(key, value string) {
		if value == "" {
			return
		}
		b.WriteString(key)
		b.WriteString(": ")
		b.WriteString(oneLine(value))
		b.WriteByte('\n')
	}
	line(keyHost, s.Host)
	line(keyNode, s.Node)
	if s.NodeID != 0 {
		line(keyNodeID, strconv.FormatUint(uint64(s.NodeID), 10))
	}
	line(keyBootID, s.BootID)
	line(keyCommand, s.CommandLine)
	for _, v := range s.LibQB {
		line(keyLibQB, v)
	}
	for _, v := range s.Pacemaker {
		line(keyPacemaker, v)
	}
	line(keyRedacted, s.Redacted)
	if s.Comment != "" {
		b.WriteByte('\n')
		b.WriteString(s.Comment)
	}
	return b.String()
}

// parseComment fills the comment-borne fields from a section comment.
// Lines with unknown keys, as another tool may write, go to Comment.
func (s *SectionInfo) parseComment(c string) {
	var other []string
	for c != "" {
		line, rest, _ := strings.Cut(c, "\n")
		if line == "" {
			if len(other) > 0 {
				other = append(other, "")
			}
			other = append(other, rest)
			break
		}
		c = rest
		key, value, ok := strings.Cut(line, ": ")
		switch {
		case ok && key == keyHost:
			s.Host = value
		case ok && key == keyNode:
			s.Node = value
		case ok && key == keyNodeID && nodeID(value) != 0:
			s.NodeID = nodeID(value)
		case ok && key == keyBootID:
			s.BootID = value
		case ok && key == keyCommand:
			s.CommandLine = value
		case ok && key == keyLibQB:
			s.LibQB = append(s.LibQB, value)
		case ok && key == keyPacemaker:
			s.Pacemaker = append(s.Pacemaker, value)
		case ok && key == keyRedacted:
			s.Redacted = value
		default:
			other = append(other, line)
		}
	}
	s.Comment = strings.Join(other, "\n")
}

// check rejects values that do not fit a pcapng option.
func (s *SectionInfo) check() error {
	for _, f := range []struct{ name, v string }{
		{"recorder", s.Recorder},
		{"kernel", s.Kernel},
		{"hardware", s.Hardware},
		{"comment", s.comment()},
	} {
		if len(f.v) > maxOption {
			return fmt.Errorf("section %s is %d bytes, the limit is %d", f.name, len(f.v), maxOption)
		}
	}
	return nil
}

func oneLine(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ").Replace(s)
	}
	return s
}

// nodeID parses a node id line; 0 means not a node id.
func nodeID(v string) uint32 {
	n, err := strconv.ParseUint(v, 10, 32)
	if err != nil {
		return 0
	}
	return uint32(n)
}

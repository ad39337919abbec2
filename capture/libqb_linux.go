//go:build linux && amd64

package capture

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// libDirs are searched after the running processes, as the dynamic linker would.
var libDirs = []string{
	"/usr/lib/x86_64-linux-gnu", "/lib/x86_64-linux-gnu",
	"/usr/lib64", "/lib64", "/usr/lib", "/lib", "/usr/local/lib64", "/usr/local/lib",
}

// Symbols every probed libqb must export.
var requiredSymbols = []string{"qb_rb_chunk_commit"}

var libqbName = regexp.MustCompile(`^libqb\.so(\.[0-9]+)*$`)

// findLibraries lists the distinct libqb files (by device and inode) mapped
// by running processes, then those in the linker's directories. paths, when
// not empty, replaces the search.
func findLibraries(paths []string) []Library {
	var libs []Library
	seen := map[[2]uint64]int{} // index in libs
	add := func(c candidate) {
		var st unix.Stat_t
		if err := unix.Stat(c.path, &st); err != nil {
			libs = append(libs, Library{Path: c.path, Name: c.name, Err: fmt.Errorf("stat: %w", err)})
			return
		}
		key := [2]uint64{st.Dev, st.Ino}
		if i, ok := seen[key]; ok {
			// Another way to the same file, should the process of the first exit.
			libs[i].alts = append(libs[i].alts, c.path)
			return
		}
		seen[key] = len(libs)
		libs = append(libs, Library{Path: c.path, Name: c.name, Dev: st.Dev, Ino: st.Ino, alts: c.alts})
	}

	if len(paths) > 0 {
		for _, p := range paths {
			add(candidate{path: p, name: p})
		}
		return libs
	}
	for _, c := range mappedLibraries() {
		add(c)
	}
	for _, p := range linkerLibraries() {
		name := p
		if r, err := filepath.EvalSymlinks(p); err == nil {
			name = r
		}
		add(candidate{path: p, name: name})
	}
	return libs
}

// candidate is a libqb file to probe: path opens it from here, name is
// what the processes call it.
type candidate struct {
	path string
	name string
	alts []string // other paths to the same file, tried when path has gone (its process ended)
	id   string   // device and inode as /proc/PID/maps gives them, for mapped files
}

// mappedLibraries returns the libqb files in every process's
// /proc/PID/maps. The path in maps is relative to the reader's root for a
// file it can reach, or to the process's own mount tree otherwise, so the
// file is opened through /proc/PID/map_files (which needs CAP_SYS_ADMIN) or,
// failing that, through /proc/PID/root.
func mappedLibraries() []candidate {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []candidate
	seen := map[string]int{} // device and inode: index in out
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		for _, c := range libqbMapped(pid) {
			i, dup := seen[c.id]
			if !dup {
				seen[c.id] = len(out)
				out = append(out, c)
				continue
			}
			// A path through /proc ends with its process: a few others to the same
			// file are kept as spares.
			if strings.HasPrefix(out[i].path, "/proc/") && len(out[i].alts) < maxAlts {
				out[i].alts = append(out[i].alts, c.path)
			}
		}
	}
	return out
}

// libqbMapped returns the libqb files process pid maps, each once. A file is
// named by the path the process maps when that path reaches the same file from
// here (it outlives the process), else through the process's /proc entries.
func libqbMapped(pid int) []candidate {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/maps", pid))
	if err != nil {
		return nil // gone, or a kernel thread
	}
	var out []candidate
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		// address perms offset dev inode path
		f := strings.Fields(sc.Text())
		if len(f) < 6 || !libqbName.MatchString(filepath.Base(f[5])) {
			continue
		}
		id := f[3] + " " + f[4]
		if slices.ContainsFunc(out, func(c candidate) bool { return c.id == id }) {
			continue
		}
		name := strings.TrimSuffix(strings.Join(f[5:], " "), " (deleted)")
		path := name
		if !sameFile(name, f[3], f[4]) {
			path = fmt.Sprintf("/proc/%d/map_files/%s", pid, f[0])
			if _, err := os.Stat(path); err != nil {
				path = fmt.Sprintf("/proc/%d/root%s", pid, name)
			}
		}
		out = append(out, candidate{path: path, name: name, id: id})
	}
	return out
}

// maxAlts bounds the spare paths kept per file.
const maxAlts = 4

// sameFile reports whether path, opened from here, is the file that maps
// names by device ("fd:01", hexadecimal major:minor) and inode.
func sameFile(path, dev, inode string) bool {
	var st unix.Stat_t
	if unix.Stat(path, &st) != nil {
		return false
	}
	major, minor, ok := strings.Cut(dev, ":")
	ma, err1 := strconv.ParseUint(major, 16, 32)
	mi, err2 := strconv.ParseUint(minor, 16, 32)
	ino, err3 := strconv.ParseUint(inode, 10, 64)
	return ok && err1 == nil && err2 == nil && err3 == nil &&
		unix.Major(st.Dev) == uint32(ma) && unix.Minor(st.Dev) == uint32(mi) && st.Ino == ino
}

// linkerLibraries returns the libqb files in the usual library directories
// and those listed in /etc/ld.so.conf.d.
func linkerLibraries() []string {
	dirs := append([]string(nil), libDirs...)
	confs, _ := filepath.Glob("/etc/ld.so.conf.d/*.conf")
	for _, c := range confs {
		data, err := os.ReadFile(c)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			line = strings.TrimSpace(line)
			if strings.HasPrefix(line, "/") {
				dirs = append(dirs, line)
			}
		}
	}
	var paths []string
	for _, d := range dirs {
		matches, _ := filepath.Glob(filepath.Join(d, "libqb.so*"))
		sort.Strings(matches)
		for _, m := range matches {
			if libqbName.MatchString(filepath.Base(m)) {
				paths = append(paths, m)
			}
		}
	}
	return paths
}

// inspectLibrary checks that path is a libqb whose structs the probes know
// and returns its version.
func inspectLibrary(path string, symbols []string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		return "", fmt.Errorf("machine %v: probes know x86_64 only", f.Machine)
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return "", fmt.Errorf("read dynamic symbols: %w", err)
	}
	have := map[string]elf.Symbol{}
	for _, s := range syms {
		if s.Section != elf.SHN_UNDEF {
			have[s.Name] = s
		}
	}
	for _, s := range symbols {
		if _, ok := have[s]; !ok {
			return "", fmt.Errorf("no symbol %s: not libqb", s)
		}
	}

	version := versionFromName(path)
	if s, ok := have["qb_ver"]; ok {
		// const struct qb_version { uint8_t major, minor, micro; const char *rest; }
		if v, err := readSymbol(f, s, 3); err == nil {
			version = fmt.Sprintf("%d.%d.%d", v[0], v[1], v[2])
			// The probes read libqb's ring buffer struct and shared header; their
			// layout is verified for 2.0.x (2.0.6, 2.0.8 and 2.0.10 tested). A
			// different layout would give wrong data, so refuse it.
			if v[0] != 2 || v[1] != 0 {
				return version, fmt.Errorf("libqb %s: struct layout not verified (the probes know libqb 2.0.x)", version)
			}
		}
	}
	return version, nil
}

// emulatedOffsets returns, for each function of want (name -> arguments
// its program reads), the offset of the instruction a probe on it goes on
// (emulatedOffset). Functions it cannot read, names defined twice at
// different addresses, and functions into whose skipped instructions some
// branch may jump are left out (their entry).
func emulatedOffsets(path string, want map[string]int) map[string]uint64 {
	f, err := elf.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	syms, err := f.DynamicSymbols()
	if err != nil {
		return nil
	}
	addr := map[string]uint64{}
	dup := map[string]bool{}
	for _, s := range syms {
		if _, ok := want[s.Name]; ok && s.Section != elf.SHN_UNDEF {
			if a, seen := addr[s.Name]; seen && a != s.Value {
				dup[s.Name] = true
			}
			addr[s.Name] = s.Value
		}
	}
	var text []textSection // read once, for every function moved
	for _, sec := range f.Sections {
		if sec.Type == elf.SHT_PROGBITS && sec.Flags&elf.SHF_EXECINSTR != 0 {
			b, err := sec.Data()
			if err != nil {
				return nil
			}
			text = append(text, textSection{sec.Addr, b})
		}
	}
	out := map[string]uint64{}
	for _, s := range syms {
		args, ok := want[s.Name]
		if !ok || dup[s.Name] || s.Section == elf.SHN_UNDEF || elf.ST_TYPE(s.Info) != elf.STT_FUNC {
			continue
		}
		start, err := readSymbol(f, s, int(min(s.Size, 64)))
		if err != nil {
			continue
		}
		off := emulatedOffset(start, args)
		if off > 0 && !branchesInto(text, s.Value+1, s.Value+uint64(off)) {
			out[s.Name] = uint64(off)
		}
	}
	return out
}

// textSection is an executable section's address and bytes.
type textSection struct {
	addr uint64
	code []byte
}

// branchesInto reports whether a relative jump or call anywhere in text may
// land in [lo, hi]: a probe placed past the entry would then run again for
// one call. Without a disassembler every byte is read as a possible branch,
// so data that looks like one keeps a probe at its entry, which only costs
// the speed-up.
func branchesInto(text []textSection, lo, hi uint64) bool {
	for _, t := range text {
		if branchTargetIn(t.code, t.addr, lo, hi) {
			return true
		}
	}
	return false
}

func readSymbol(f *elf.File, s elf.Symbol, n int) ([]byte, error) {
	if int(s.Section) >= len(f.Sections) {
		return nil, errors.New("symbol outside sections")
	}
	sec := f.Sections[s.Section]
	if s.Value < sec.Addr || sec.Type == elf.SHT_NOBITS {
		return nil, errors.New("symbol has no file data")
	}
	buf := make([]byte, n)
	if _, err := sec.ReadAt(buf, int64(s.Value-sec.Addr)); err != nil {
		return nil, err
	}
	return buf, nil
}

// versionFromName returns the shared object version of libqb.so.100.3.0
// ("so.100.3.0"), or "unknown".
func versionFromName(path string) string {
	base := filepath.Base(path)
	if target, err := filepath.EvalSymlinks(path); err == nil {
		base = filepath.Base(target)
	}
	if v, ok := strings.CutPrefix(base, "libqb."); ok && strings.HasPrefix(v, "so.") {
		return v
	}
	return "unknown"
}

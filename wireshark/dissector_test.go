// Package wireshark holds pcmk-trace.lua, the Wireshark dissector for pcmk-trace captures;
// this test runs it through real tshark on the recorded captures in testdata/captures.
package wireshark

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// fields are the dissector fields the test reads back, in tshark's -e order.
var fields = []string{
	"frame.number", "pcmk.kind", "pcmk.seq", "pcmk.service", "pcmk.channel", "pcmk.pid",
	"pcmk.comm", "pcmk.conn", "pcmk.qb.id", "pcmk.qb.size", "pcmk.dialect", "pcmk.ipc_flags",
	"pcmk.compressed", "pcmk.root", "pcmk.cont", "_ws.malformed", "_ws.expert.severity",
}

// TestDissectorOnCaptures dissects every recorded capture and checks, packet by packet, that
// the fields Wireshark shows are those of the record capfile reads from the same file.
func TestDissectorOnCaptures(t *testing.T) {
	tshark, err := exec.LookPath("tshark")
	if err != nil {
		testcluster.Skip(t, "tshark not installed (scripts/deps)")
	}
	files, _ := filepath.Glob("../testdata/captures/*.pcapng")
	if len(files) == 0 {
		testcluster.Skip(t, "no captures in testdata/captures")
	}
	script, _ := filepath.Abs("pcmk-trace.lua")
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) { dissect(t, tshark, script, file) })
	}
}

// dissect runs tshark with the dissector on file and checks every packet
// against the record capfile reads.
func dissect(t *testing.T, tshark, script, file string) {
	want := records(t, file)
	home := t.TempDir()
	args := []string{"-n", "-X", "lua_script:" + script, "-r", file, "-T", "fields", "-E", "separator=\t", "-E", "occurrence=f"}
	for _, f := range fields {
		args = append(args, "-e", f)
	}
	cmd := exec.Command(tshark, args...)
	// A private HOME and config dir: no personal profile or plugin changes the result.
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME="+home, "WIRESHARK_CONFIG_DIR="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("tshark: %v\n%s", err, stderr.String())
	}
	if s := stderr.String(); strings.Contains(s, "Lua") || strings.Contains(s, "rror") {
		t.Fatalf("tshark stderr:\n%s", s)
	}
	lines := strings.Split(strings.TrimRight(stdout.String(), "\n"), "\n")
	firsts := 0
	for _, line := range lines {
		col := strings.Split(line, "\t")
		if len(col) != len(fields) {
			t.Fatalf("tshark line %q: %d fields, want %d", line, len(col), len(fields))
		}
		get := func(name string) string {
			for i, f := range fields {
				if f == name {
					return col[i]
				}
			}
			panic(name)
		}
		frame := get("frame.number")
		if get("_ws.malformed") != "" {
			t.Errorf("frame %s: malformed", frame)
		}
		if sev := get("_ws.expert.severity"); sev != "" {
			// Loss records carry a warning by design; errors never.
			if n, _ := strconv.ParseUint(sev, 0, 32); n >= 0x00800000 { // PI_ERROR
				t.Errorf("frame %s: expert severity %s", frame, sev)
			}
		}
		if get("pcmk.cont") == "True" || get("pcmk.cont") == "1" {
			continue
		}
		num, _ := strconv.Atoi(frame)
		rec, ok := want[num]
		if !ok {
			t.Errorf("frame %s: no record starts here", frame)
			continue
		}
		firsts++
		check := func(field, got, exp string) {
			if got != exp {
				t.Errorf("frame %s (%s %s): %s = %q, want %q", frame, rec.Service, rec.Channel, field, got, exp)
			}
		}
		check("pcmk.kind", get("pcmk.kind"), strconv.Itoa(int(rec.Kind)))
		check("pcmk.seq", get("pcmk.seq"), strconv.FormatUint(rec.Seq, 10))
		check("pcmk.service", get("pcmk.service"), rec.Service)
		check("pcmk.pid", get("pcmk.pid"), strconv.Itoa(int(rec.PID)))
		check("pcmk.comm", get("pcmk.comm"), rec.Comm)
		check("pcmk.conn", get("pcmk.conn"), rec.Conn)
		if rec.Kind != capfile.KindMessage || len(rec.Data) < 16 {
			continue
		}
		check("pcmk.channel", get("pcmk.channel"), strconv.Itoa(int(rec.Channel)))
		check("pcmk.qb.id", get("pcmk.qb.id"), strconv.Itoa(int(int32(binary.LittleEndian.Uint32(rec.Data)))))
		check("pcmk.qb.size", get("pcmk.qb.size"), strconv.Itoa(int(int32(binary.LittleEndian.Uint32(rec.Data[8:])))))
		if !pacemaker[rec.Service] || len(rec.Data) < 41 {
			continue
		}
		if get("pcmk.dialect") == "0" || get("pcmk.dialect") == "" {
			t.Errorf("frame %s (%s): no envelope dialect recognised", frame, rec.Service)
		}
		laterPart := get("pcmk.dialect") == "2" && binary.LittleEndian.Uint16(rec.Data[34:]) > 0
		if !laterPart && get("pcmk.compressed") != "True" && get("pcmk.compressed") != "1" && rec.Flags&capfile.FlagTruncated == 0 {
			root := xmlRoot(rec.Data[40:])
			check("pcmk.root", get("pcmk.root"), root)
		}
	}
	if firsts != len(want) {
		t.Errorf("tshark showed %d records, capfile read %d", firsts, len(want))
	}
}

var pacemaker = map[string]bool{
	"cib_ro": true, "cib_rw": true, "cib_shm": true, "crmd": true, "attrd": true,
	"lrmd": true, "stonith-ng": true, "pacemakerd": true, "pengine": true,
}

// xmlRoot returns the name of the first element in an uncompressed payload.
func xmlRoot(b []byte) string {
	i := bytes.IndexByte(b, '<')
	if i < 0 {
		return ""
	}
	b = b[i+1:]
	end := bytes.IndexAny(b, " />\t\n")
	if end < 0 {
		return ""
	}
	return string(b[:end])
}

// records reads file with capfile, keyed by each record's first packet number.
func records(t *testing.T, file string) map[int]*capfile.Record {
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := capfile.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	m := map[int]*capfile.Record{}
	for {
		rec, err := r.Next()
		if errors.Is(err, io.EOF) {
			return m
		}
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		m[rec.Packet] = rec
	}
}

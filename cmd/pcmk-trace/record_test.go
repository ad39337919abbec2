package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

func TestRecordFlags(t *testing.T) {
	checkExitCodes(t, []exitCase{
		{"help", []string{"record", "-h"}, 0},
		{"unknown flag", []string{"record", "--nope"}, 2},
		{"argument", []string{"record", "extra"}, 2},
		{"bad ring size", []string{"record", "--ring-size", "lots"}, 2},
	})
}

func TestRecordHelpHidesReadyFile(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"record", "-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	help := out.String()
	if errOut.Len() > 0 {
		t.Errorf("help wrote to standard error: %q", errOut.String())
	}
	for _, want := range []string{"--write", "--pid", "--comm", "--service", "--snaplen", "--duration", "--count", "--libqb", "--ring-size", "--rx", "Example:"} {
		if !strings.Contains(help, want) {
			t.Errorf("help lacks %s", want)
		}
	}
	if strings.Contains(help, "ready-file") {
		t.Error("help shows the hidden --ready-file")
	}
}

func TestByteSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int
		ok   bool
	}{
		{"4096", 4096, true},
		{"16M", 16 << 20, true},
		{"16MiB", 16 << 20, true},
		{"512k", 512 << 10, true},
		{"1G", 1 << 30, true},
		{"", 0, false},
		{"-1M", 0, false},
		{"4X", 0, false},
	} {
		var b byteSize
		err := b.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && int(b) != tc.want) {
			t.Errorf("%q: %d, %v", tc.in, b, err)
		}
	}
}

// pacemakerMessage builds a dialect A message with an XML payload.
func pacemakerMessage(id uint32, xml string) []byte {
	m := make([]byte, 40+len(xml)+1)
	binary.LittleEndian.PutUint32(m[0:], id)
	binary.LittleEndian.PutUint32(m[8:], uint32(len(m)))
	binary.LittleEndian.PutUint32(m[24:], uint32(len(xml)+1))
	m[36] = 1
	copy(m[40:], xml)
	return m
}

func TestWriteLine(t *testing.T) {
	at := time.Date(2026, 1, 2, 15, 4, 5, 123456000, time.Local)
	msg := pacemakerMessage(2, `<cib_command t="cib" cib_op="cib_query"/>`)
	for _, tc := range []struct {
		desc string
		rec  capfile.Record
		want string
	}{
		{"request", capfile.Record{Kind: capfile.KindMessage, Time: at, Channel: capfile.ChannelRequest,
			Transport: capfile.TransportSHM, PID: 4242, NSPID: 4242, Comm: "cibadmin", Service: "cib_rw",
			ServerPID: 54, ClientPID: 4242, OrigLen: uint32(len(msg)), Data: msg},
			"15:04:05.123456 cibadmin[4242] > 54 cib_rw request id 2 82 bytes <cib_command> cib_query\n"},
		{"namespaced event over socket, truncated", capfile.Record{Kind: capfile.KindMessage, Time: at,
			Channel: capfile.ChannelEvent, Transport: capfile.TransportSocket, Flags: capfile.FlagTruncated,
			PID: 900, NSPID: 54, Comm: "pacemaker-based", Service: "cib_rw", ServerPID: 54, ClientPID: 77,
			OrigLen: 5000, Data: msg},
			"15:04:05.123456 pacemaker-based[900/54] > 77 cib_rw event (socket) id 2 5000 bytes (82 captured) <cib_command> cib_query\n"},
		{"corosync", capfile.Record{Kind: capfile.KindMessage, Time: at, Channel: capfile.ChannelResponse,
			PID: 29, NSPID: 29, Comm: "corosync", Service: "cmap", ClientPID: 219, OrigLen: 24,
			Data: make([]byte, 24)},
			"15:04:05.123456 corosync[29] > 219 cmap response id 0 24 bytes\n"},
		{"loss", capfile.Record{Kind: capfile.KindLoss, Time: at, Lost: 3, Cause: capfile.LossRingFull},
			"15:04:05.123456 LOST 3 messages (ring buffer full: raise --ring-size)\n"},
		{"connect", capfile.Record{Kind: capfile.KindConnect, Time: at, PID: 4242, Comm: "cibadmin",
			Service: "cib_rw", Conn: "qb-54-4242-12-AbCdEf", MaxMsgSize: 524288, Transport: capfile.TransportSHM},
			"15:04:05.123456 cibadmin[4242] connect cib_rw qb-54-4242-12-AbCdEf max 524288 (shm)\n"},
	} {
		var b bytes.Buffer
		w := bufio.NewWriter(&b)
		writeLine(w, &tc.rec)
		w.Flush()
		if b.String() != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.desc, b.String(), tc.want)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"pcmk-trace", "record", "-w", "my file.pcapng", "--comm", "it's"})
	want := `pcmk-trace record -w 'my file.pcapng' --comm 'it'\''s'`
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// writeReplayCapture writes a capture of crm_attribute -n p -v 1 -t crm_config: a
// register, a query and a write on cib_rw.
func writeReplayCapture(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "w.pcapng")
	w, err := capfile.Create(path, capfile.WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const conn = "qb-54-711-12-abcdef"
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	msgs := []struct {
		ch    capfile.Channel
		id    int32
		flags qbipc.Flags
		xml   string
	}{
		{capfile.ChannelRequest, 1, qbipc.FlagClientResponse, `<cib_command t="cib" cib_op="register" cib_clientname="crm_attribute" cib_callopt="4096"/>`},
		{capfile.ChannelResponse, 1, qbipc.FlagClientResponse, `<cib_common_callback_worker cib_op="register" cib_clientid="0a1b2c3d-0000-4000-8000-000000000001"/>`},
		{capfile.ChannelRequest, 2, qbipc.FlagClientResponse, `<cib_command t="cib" cib_async_id="0a1b2c3d-0000-4000-8000-000000000001" cib_op="cib_query" cib_callid="2" cib_callopt="4354" cib_section="//nvpair[@name='p']"/>`},
		{capfile.ChannelResponse, 2, 0, `<cib-reply t="cib" cib_op="cib_query" cib_callid="2" cib_rc="-6"/>`},
		{capfile.ChannelRequest, 3, qbipc.FlagClientResponse, `<cib_command t="cib" cib_async_id="0a1b2c3d-0000-4000-8000-000000000001" cib_op="cib_modify" cib_callid="3" cib_callopt="1052672"><cib_calldata><cluster_property_set id="o"><nvpair id="o-p" name="p" value="1"/></cluster_property_set></cib_calldata></cib_command>`},
		{capfile.ChannelResponse, 3, 0, `<cib-reply t="cib" cib_op="cib_modify" cib_callid="3" cib_rc="0"/>`},
	}
	for i, m := range msgs {
		enc := qbipc.Encoder{Dialect: qbipc.DialectA}
		data, err := enc.Encode(m.id, m.xml, m.flags)
		if err != nil {
			t.Fatal(err)
		}
		pid, comm := uint32(10448), "crm_attribute"
		if m.ch != capfile.ChannelRequest {
			pid, comm = 26626, "pacemaker-based"
		}
		if err := w.Write(&capfile.Record{
			Kind: capfile.KindMessage, Time: t0.Add(time.Duration(i) * 100 * time.Microsecond), Channel: m.ch,
			Seq: uint64(i + 1), OrigLen: uint32(len(data[0])), PID: pid, Comm: comm, Service: "cib_rw", Conn: conn,
			ClientPID: 711, ServerPID: 54, Data: data[0],
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReplayFlags(t *testing.T) {
	file := writeReplayCapture(t)
	checkExitCodes(t, []exitCase{
		{"help", []string{"replay", "-h"}, 0},
		{"no file", []string{"replay"}, 2},
		{"two files", []string{"replay", file, file}, 2},
		{"unknown flag", []string{"replay", "--nope", file}, 2},
		{"bad format", []string{"replay", "-f", "yaml", file}, 2},
		{"bad speed", []string{"replay", "--speed", "0", file}, 2},
		{"bad loop", []string{"replay", "--loop", "0", file}, 2},
		{"bad mask", []string{"replay", "--mask", "a[b]@c", file}, 2},
		{"bad element mask", []string{"replay", "--mask-element", "a@b", file}, 2},
		{"bad dialect", []string{"replay", "--dialect", "C", file}, 2},
		{"missing file", []string{"replay", filepath.Join(t.TempDir(), "none.pcapng")}, 2},
		{"not a capture", []string{"replay", "replay.go"}, 2},
		{"nothing selected", []string{"replay", "--service", "attrd", file}, 2},
		{"no such process for --ns-of", []string{"replay", "--ns-of", "999999999", file}, 2},
		{"dry run", []string{"replay", "--dry-run", file}, 0},
	})
}

func TestReplayHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"replay", "-h"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"--speed", "--asap", "--loop", "--allow-writes", "--dry-run", "--all-clients",
		"--service", "--op", "--pid", "--conn", "--mask", "--mask-element", "--format", "--ns-of", "--timeout", "Exit status"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help lacks %s", want)
		}
	}
	if strings.Contains(out.String(), "netns-of") {
		t.Error("help shows the hidden alias --netns-of")
	}
	out.Reset()
	if err := run(context.Background(), nil, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "replay ") {
		t.Errorf("usage lacks the replay command:\n%s", out.String())
	}
}

func TestReplayDryRun(t *testing.T) {
	file := writeReplayCapture(t)
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"replay", "-n", file}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	text := out.String()
	for _, want := range []string{
		"+0.000000s cib_rw qb-54-711-12-abcdef crm_attribute[10448] register (read): send",
		"+0.000200s cib_rw qb-54-711-12-abcdef crm_attribute[10448] cib_query (read): send",
		"cib_modify (write): REFUSE",
		`    <cib_command t="cib" cib_async_id=`,
		"3 requests;",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("dry run lacks %q:\n%s", want, text)
		}
	}

	out.Reset()
	if err := run(context.Background(), []string{"replay", "-n", "--allow-writes", "-f", "json", "--op", "cib_modify", file}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var v struct {
			Op, Action, Class string
			Replies           int
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		actions = append(actions, v.Op+":"+v.Class+":"+v.Action)
	}
	if got := strings.Join(actions, " "); got != "register:read:send cib_modify:write:send" {
		t.Errorf("JSON dry run: %s", got)
	}
}

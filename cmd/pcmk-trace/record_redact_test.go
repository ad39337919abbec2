//go:build linux && amd64

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// redactSecrets are what the redaction workload puts in the CIB; the last
// is given with --redact-value, the others match default names.
var redactSecrets = []string{"FencePass-4242", "FenceLogin-4242", "FencePass-5353", "DbPass-4242", "DbPass-5353", "LiteralSecret-77"}

// redactWorkload creates, queries, changes and deletes a fence device with
// passwd and login, and a resource with a db_password nvpair and a note
// holding the literal secret, in a CIB made big enough to be compressed
// (2.1.5) or split into parts (3.0.1+).
const redactWorkload = `set -e
{
	echo '<cluster_property_set id="rd-big">'
	for i in $(seq 1 2000); do
		echo "<nvpair id=\"rd-big-$i\" name=\"rd-big-$i\" value=\"value-$i-padding-padding-padding-padding-padding\"/>"
	done
	echo '</cluster_property_set>'
} | cibadmin -C -o crm_config -p
cibadmin -C -o resources -X '<primitive id="rd-fence" class="stonith" type="fence_watchdog"><instance_attributes id="rd-fence-ia"><nvpair id="rd-fence-passwd" name="passwd" value="FencePass-4242"/><nvpair id="rd-fence-login" name="login" value="FenceLogin-4242"/></instance_attributes></primitive>'
sleep 2
cibadmin -C -o resources -X '<primitive id="rd-db" class="ocf" provider="pacemaker" type="Dummy"><instance_attributes id="rd-db-ia"><nvpair id="rd-db-pw" name="db_password" value="DbPass-4242"/><nvpair id="rd-db-note" name="note" value="LiteralSecret-77"/></instance_attributes><meta_attributes id="rd-db-meta"><nvpair id="rd-db-role" name="target-role" value="Stopped"/></meta_attributes></primitive>'
cibadmin -Q > /dev/null
cibadmin -Q -o resources > /dev/null
crm_resource -r rd-fence --get-parameter passwd
crm_resource -r rd-db --get-parameter db_password
cibadmin -M -X '<nvpair id="rd-fence-passwd" name="passwd" value="FencePass-5353"/>'
crm_resource -r rd-db --set-parameter db_password --parameter-value DbPass-5353
cibadmin -Q > /dev/null
cibadmin -D -o resources -X '<primitive id="rd-fence"/>'
cibadmin -D -o resources -X '<primitive id="rd-db"/>'
cibadmin -D -o crm_config -X '<cluster_property_set id="rd-big"/>'
crm_resource --cleanup > /dev/null || true
`

// TestRecordRedact records the redaction workload with --redact on every
// release: none of the secrets is left in the file, neither in its bytes
// nor in any message's decompressed or reassembled text; without --redact
// every one of them is there.
func TestRecordRedact(t *testing.T) {
	testcluster.RequireRoot(t)
	for _, rel := range testcluster.Releases() {
		t.Run(rel, func(t *testing.T) {
			c := testcluster.RequireConfig(t, testcluster.Config{Release: rel})
			plain := recordRedactWorkload(t, c)
			redacted := recordRedactWorkload(t, c, "--redact", "--redact-value", "LiteralSecret-77")

			found := secretsIn(t, plain)
			for _, s := range redactSecrets {
				if found[s] == 0 {
					t.Errorf("without --redact: %s not in the capture: the workload did not show it", s)
				}
			}
			forms := formsIn(t, plain)
			t.Logf("%s: without --redact: %v; forms %v", rel, found, forms)
			if forms["compressed"]+forms["multipart"] == 0 {
				t.Errorf("no compressed or multipart message: the CIB was not big enough")
			}

			raw, err := os.ReadFile(redacted)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range redactSecrets {
				if bytes.Contains(raw, []byte(s)) {
					t.Errorf("with --redact: %s in the file's bytes", s)
				}
			}
			if n := secretsIn(t, redacted); len(n) > 0 {
				t.Errorf("with --redact: secrets in decoded messages: %v", n)
			}
			rforms := formsIn(t, redacted)
			t.Logf("%s: with --redact: forms %v", rel, rforms)
			if rforms["compressed"]+rforms["multipart"] == 0 {
				t.Errorf("with --redact: no compressed or multipart message")
			}
			// the secrets' places hold placeholders, in the plain and the big forms
			shown := map[string]int{}
			for _, m := range decodeRedactFile(t, redacted) {
				for _, attr := range []string{`name="passwd" value="*`, `name="login" value="*`, `name="db_password" value="*`, `name="note" value="*`} {
					if bytes.Contains(m.XML, []byte(attr)) {
						shown[attr]++
						if m.Compressed || m.Parts > 1 {
							shown["compressed or multipart"]++
						}
					}
				}
			}
			t.Logf("%s: placeholders %v", rel, shown)
			if len(shown) != 5 {
				t.Errorf("with --redact: placeholders %v; want all four secrets' places, some in compressed or multipart messages", shown)
			}
		})
	}
}

func recordRedactWorkload(t *testing.T, c *testcluster.Cluster, args ...string) string {
	t.Helper()
	file := filepath.Join(t.TempDir(), "redact.pcapng")
	rec := startRecorder(t, append([]string{"-w", file, "--ns-of", fmt.Sprint(c.InitPID)}, args...)...)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := c.Command(ctx, "bash", "-c", redactWorkload)
	if out, err := cmd.CombinedOutput(); err != nil {
		rec.stop(t)
		t.Fatalf("workload: %v\n%s", err, out)
	}
	time.Sleep(2 * time.Second) // the last notifications
	rec.stop(t)
	t.Logf("record %v:\n%s", args, rec.stderr.String())
	if len(args) > 0 && !strings.Contains(rec.stderr.String(), "redacted ") {
		t.Errorf("summary without the redaction line: %s", rec.stderr.String())
	}
	return file
}

// decodeRedactFile decodes a capture; it fails the test on any error, a message's too.
func decodeRedactFile(t *testing.T, file string) []*decode.Message {
	t.Helper()
	msgs, _ := decodeFile(t, decode.Options{}, file)
	for _, m := range msgs {
		if m.Err != nil {
			t.Errorf("%s: message %d (%s): %v", file, m.Seq, m.Op, m.Err)
		}
	}
	return msgs
}

// secretsIn counts the messages whose text holds each secret, and those
// of each service and operation holding any.
func secretsIn(t *testing.T, file string) map[string]int {
	found := map[string]int{}
	for _, m := range decodeRedactFile(t, file) {
		any := false
		for _, s := range redactSecrets {
			if bytes.Contains(m.XML, []byte(s)) {
				found[s]++
				any = true
			}
		}
		if any {
			found[m.Service+"/"+m.Op]++
		}
	}
	return found
}

// formsIn counts compressed and multipart messages.
func formsIn(t *testing.T, file string) map[string]int {
	forms := map[string]int{}
	for _, m := range decodeRedactFile(t, file) {
		if m.Compressed {
			forms["compressed"]++
		}
		if m.Parts > 1 {
			forms["multipart"]++
		}
		forms["messages"]++
	}
	return forms
}

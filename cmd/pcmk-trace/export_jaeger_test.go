package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/export"
	"github.com/pcmk-trace/pcmk-trace/internal/testcluster"
)

// jaegerVersion is the Jaeger that tools/jaeger/go.mod pins; its binary is
// cached under .cache/jaeger/VERSION.
const jaegerVersion = "v1.75.0"

// jaegerBinary builds Jaeger from tools/jaeger (a module of its own, so its
// dependencies stay out of pcmk-trace's) once, and returns its path.
func jaegerBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs Jaeger; -short runs only the quick tests")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "tools/jaeger/go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mod), "github.com/jaegertracing/jaeger "+jaegerVersion) {
		t.Fatalf("tools/jaeger/go.mod does not require jaeger %s: update jaegerVersion", jaegerVersion)
	}
	bin := filepath.Join(root, ".cache/jaeger", jaegerVersion, "jaeger")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp := fmt.Sprintf("%s.%d", bin, os.Getpid())
	cmd := exec.Command("go", "build", "-o", tmp, "github.com/jaegertracing/jaeger/cmd/jaeger")
	cmd.Dir = filepath.Join(root, "tools/jaeger")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		testcluster.Skip(t, fmt.Sprintf("build jaeger %s: %v\n%s", jaegerVersion, err, out))
	}
	t.Logf("built jaeger %s in %s", jaegerVersion, time.Since(start).Round(time.Second))
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// freePort returns a loopback TCP port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// jaegerConfig runs Jaeger all-in-one on loopback only: OTLP/HTTP in, memory
// storage, the query API; nothing else listens.
const jaegerConfig = `service:
  extensions: [jaeger_storage, jaeger_query]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [jaeger_storage_exporter]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
extensions:
  jaeger_storage:
    backends:
      mem:
        memory:
          max_traces: 100000
  jaeger_query:
    storage:
      traces: mem
    enable_tracing: false
    max_clock_skew_adjust: 0s
    http:
      endpoint: 127.0.0.1:%d
    grpc:
      endpoint: 127.0.0.1:%d
receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:%d
exporters:
  jaeger_storage_exporter:
    trace_storage: mem
`

// startJaeger starts Jaeger on free loopback ports and returns its OTLP
// and query URLs once both answer.
func startJaeger(t *testing.T, bin string) (otlpURL, queryURL string) {
	t.Helper()
	query, grpc, otlp := freePort(t), freePort(t), freePort(t)
	cfg := filepath.Join(t.TempDir(), "jaeger.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, jaegerConfig, query, grpc, otlp), 0o644); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	cmd := exec.Command(bin, "--config", "file:"+cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			t.Logf("jaeger:\n%s", logs.String())
		}
	})
	otlpURL = fmt.Sprintf("http://127.0.0.1:%d", otlp)
	queryURL = fmt.Sprintf("http://127.0.0.1:%d", query)
	for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		select {
		case <-exited:
			t.Fatalf("jaeger exited:\n%s", logs.String())
		default:
		}
		r, err := http.Get(queryURL + "/api/services")
		if err == nil {
			r.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", otlp)); err == nil {
				c.Close()
				return otlpURL, queryURL
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("jaeger did not answer within 60s:\n%s", logs.String())
		}
	}
}

// jaegerSpan is a span as Jaeger's HTTP API returns it.
type jaegerSpan struct {
	TraceID       string `json:"traceID"`
	SpanID        string `json:"spanID"`
	OperationName string `json:"operationName"`
	References    []struct {
		RefType string `json:"refType"`
		TraceID string `json:"traceID"`
		SpanID  string `json:"spanID"`
	} `json:"references"`
	StartTime int64 `json:"startTime"` // µs
	Duration  int64 `json:"duration"`  // µs
	Tags      []struct {
		Key   string `json:"key"`
		Value any    `json:"value"`
	} `json:"tags"`
	ProcessID string `json:"processID"`
	service   string
}

func (s *jaegerSpan) tag(key string) any {
	for _, t := range s.Tags {
		if t.Key == key {
			return t.Value
		}
	}
	return nil
}

// jaegerGet decodes the data of a Jaeger API answer into v.
func jaegerGet(t *testing.T, u string, v any) {
	t.Helper()
	r, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, r.Status)
	}
	wrap := struct{ Data any }{v}
	if err := json.NewDecoder(r.Body).Decode(&wrap); err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
}

// jaegerSpans returns every span Jaeger holds for the services, between
// from and to.
func jaegerSpans(t *testing.T, queryURL string, services []string, from, to time.Time) map[string]*jaegerSpan {
	t.Helper()
	spans := map[string]*jaegerSpan{}
	for _, svc := range services {
		q := url.Values{
			"service": {svc}, "limit": {"100000"},
			"start": {strconv.FormatInt(from.UnixMicro(), 10)}, "end": {strconv.FormatInt(to.UnixMicro(), 10)},
		}
		var traces []struct {
			Spans     []*jaegerSpan `json:"spans"`
			Processes map[string]struct {
				ServiceName string `json:"serviceName"`
			} `json:"processes"`
		}
		jaegerGet(t, queryURL+"/api/traces?"+q.Encode(), &traces)
		for _, tr := range traces {
			for _, s := range tr.Spans {
				s.service = tr.Processes[s.ProcessID].ServiceName
				spans[s.SpanID] = s
			}
		}
	}
	return spans
}

// TestExportJaeger exports captures to a real Jaeger on loopback and checks
// what its query API gives back against the capture: every span, its
// parent, service, attributes and the recorded times.
func TestExportJaeger(t *testing.T) {
	bin := jaegerBinary(t)
	for _, tc := range []struct {
		name  string
		files []string
		nodes int // the most nodes one trace spans
	}{
		{"bookworm-workload", []string{"../../testdata/captures/bookworm-workload.pcapng"}, 1},
		{"bookworm-remote", []string{"../../testdata/captures/bookworm-remote.pcapng"}, 1},
		{"bookworm-big-cib", []string{"../../testdata/captures/bookworm-big-cib.pcapng"}, 1},
		{"trixie-workload", []string{"../../testdata/captures/trixie-workload.pcapng"}, 1},
		{"sid-workload", []string{"../../testdata/captures/sid-workload.pcapng"}, 1},
		// A crm_attribute change made on node2, merged from the three nodes'
		// captures: one trace across all three.
		{"bookworm-3nodes", []string{"../../testdata/captures/bookworm-3nodes.pcapng"}, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			otlpURL, queryURL := startJaeger(t, bin)
			want := dryRunSpans(t, tc.files...)
			_, stderr, err := runExportCmd(t, append([]string{"--otlp", otlpURL}, tc.files...)...)
			if err != nil {
				t.Fatalf("%v; stderr: %s", err, stderr)
			}
			t.Logf("export: %s", strings.TrimSpace(stderr))
			checkJaeger(t, queryURL, tc.files, want, tc.nodes)
		})
	}
}

func checkJaeger(t *testing.T, queryURL string, files []string, want []export.SpanJSON, nodes int) {
	// The recorded times of every message, by capture sequence number.
	times := map[int64]time.Time{}
	requests := 0
	for _, f := range files {
		in, err := openInput(f, &filterFlags{}, decode.Options{})
		if err != nil {
			t.Fatal(err)
		}
		for {
			m, err := in.msgs.Next()
			if err != nil {
				break
			}
			times[int64(m.Seq)] = m.Time
			if m.Kind == decode.KindMessage && m.Role == decode.RoleRequest {
				requests++
			}
		}
		in.Close()
	}
	services := map[string]bool{}
	from, to := want[0].Start, want[0].End
	for _, s := range want {
		services[s.Service] = true
		if s.Start.Before(from) {
			from = s.Start
		}
		if s.End.After(to) {
			to = s.End
		}
	}
	var names []string
	var got []string
	for s := range services {
		names = append(names, s)
	}
	jaegerGet(t, queryURL+"/api/services", &got)
	for _, s := range names {
		if !strings.Contains(" "+strings.Join(got, " ")+" ", " "+s+" ") {
			t.Errorf("jaeger has no service %s (has %v)", s, got)
		}
	}

	var spans map[string]*jaegerSpan
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		spans = jaegerSpans(t, queryURL, names, from.Add(-time.Hour), to.Add(time.Hour))
		if len(spans) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	if len(spans) != len(want) {
		t.Fatalf("jaeger holds %d spans, export sent %d", len(spans), len(want))
	}
	kinds := map[string]int{}
	traceNodes := map[string]map[any]bool{}
	for _, w := range want {
		s, ok := spans[w.SpanID]
		if !ok {
			t.Errorf("span %s (%s %s) not in jaeger", w.SpanID, w.Kind, w.Name)
			continue
		}
		kinds[w.Kind]++
		if s.TraceID != w.TraceID || s.OperationName != w.Name || s.service != w.Service {
			t.Errorf("span %s: trace %s op %s service %s, want %s %s %s", w.SpanID, s.TraceID, s.OperationName, s.service,
				w.TraceID, w.Name, w.Service)
		}
		if k := s.tag("span.kind"); k != w.Kind {
			t.Errorf("span %s: kind %v, want %s", w.SpanID, k, w.Kind)
		}
		var parent string
		for _, r := range s.References {
			if r.RefType == "CHILD_OF" {
				parent = r.SpanID
			}
		}
		if parent != w.ParentID {
			t.Errorf("span %s: parent %q, want %q", w.SpanID, parent, w.ParentID)
		}
		if w.Kind == "server" {
			if p := spans[parent]; p == nil || p.tag("span.kind") != "client" || p.StartTime != s.StartTime || p.Duration != s.Duration {
				t.Errorf("server span %s: its parent is not its request's client span", w.SpanID)
			}
		}
		if traceNodes[s.TraceID] == nil {
			traceNodes[s.TraceID] = map[any]bool{}
		}
		traceNodes[s.TraceID][s.tag("pcmk.node")] = true
		// Jaeger keeps microseconds: the request's recorded time, and the answer's.
		seq := s.tag("pcmk.request.seq")
		if seq == nil {
			seq = s.tag("pcmk.seq")
		}
		n, _ := seq.(float64)
		start, ok := times[int64(n)]
		if !ok {
			t.Errorf("span %s: no message with seq %v", w.SpanID, seq)
		} else if s.StartTime != start.UnixMicro() {
			t.Errorf("span %s: start %d µs, recorded %d", w.SpanID, s.StartTime, start.UnixMicro())
		}
		// The duration too is cut to microseconds.
		if rep, ok := s.tag("pcmk.reply.seq").(float64); ok && w.End.Equal(times[int64(rep)]) {
			if want := int64(w.End.Sub(start) / time.Microsecond); s.Duration != want {
				t.Errorf("span %s: lasts %d µs, %d from request to answer", w.SpanID, s.Duration, want)
			}
		} else if ok {
			t.Errorf("span %s: ends %v, its answer was recorded at %v", w.SpanID, w.End, times[int64(rep)])
		}
		for _, key := range []string{"rpc.method", "rpc.service", "pcmk.qb_id", "pcmk.conn", "pcmk.node"} {
			if fmt.Sprint(s.tag(key)) != fmt.Sprint(w.Attributes[key]) {
				t.Errorf("span %s: %s = %v, want %v", w.SpanID, key, s.tag(key), w.Attributes[key])
			}
		}
		if w.Status == "Error" && s.tag("error") != true {
			t.Errorf("span %s: error status lost", w.SpanID)
		}
	}
	if kinds["client"] != requests || kinds["server"] != requests {
		t.Errorf("%d client and %d server spans, want one each for %d requests", kinds["client"], kinds["server"], requests)
	}
	most := 0
	for _, n := range traceNodes {
		most = max(most, len(n))
	}
	if most != nodes {
		t.Errorf("the widest trace spans %d nodes, want %d", most, nodes)
	}
}

package export

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// SpanJSON is one span as [JSONExporter] writes it: a JSON object per line.
type SpanJSON struct {
	TraceID    string         `json:"trace_id"`
	SpanID     string         `json:"span_id"`
	ParentID   string         `json:"parent_span_id,omitempty"`
	Name       string         `json:"name"`
	Kind       string         `json:"kind"`
	Start      time.Time      `json:"start"`
	End        time.Time      `json:"end"`
	Service    string         `json:"service"`
	Resource   map[string]any `json:"resource"`
	Attributes map[string]any `json:"attributes"`
	Events     []EventJSON    `json:"events,omitempty"`
	Status     string         `json:"status"` // Unset, Ok or Error
	Message    string         `json:"status_message,omitempty"`
}

// EventJSON is a span event in a [SpanJSON].
type EventJSON struct {
	Name       string         `json:"name"`
	Time       time.Time      `json:"time"`
	Attributes map[string]any `json:"attributes,omitempty"`
}

// JSONExporter writes spans as JSON lines instead of sending them: a dry
// run, and a way to see what a backend would get.
type JSONExporter struct {
	mu sync.Mutex
	w  *bufio.Writer
}

// NewJSONExporter returns an exporter writing to w.
func NewJSONExporter(w io.Writer) *JSONExporter { return &JSONExporter{w: bufio.NewWriter(w)} }

// ExportSpans writes spans, one line each.
func (e *JSONExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	enc := json.NewEncoder(e.w)
	for _, s := range spans {
		if err := enc.Encode(ToJSON(s)); err != nil {
			return fmt.Errorf("writing span: %w", err)
		}
	}
	return e.w.Flush()
}

// Shutdown flushes the output.
func (e *JSONExporter) Shutdown(context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.w.Flush()
}

// ToJSON returns s as [JSONExporter] writes it.
func ToJSON(s sdktrace.ReadOnlySpan) SpanJSON {
	j := SpanJSON{
		TraceID:    s.SpanContext().TraceID().String(),
		SpanID:     s.SpanContext().SpanID().String(),
		Name:       s.Name(),
		Kind:       s.SpanKind().String(),
		Start:      s.StartTime().UTC(),
		End:        s.EndTime().UTC(),
		Resource:   attrMap(s.Resource().Attributes()),
		Attributes: attrMap(s.Attributes()),
		Status:     s.Status().Code.String(),
		Message:    s.Status().Description,
	}
	if p := s.Parent(); p.IsValid() {
		j.ParentID = p.SpanID().String()
	}
	if v, ok := j.Resource["service.name"].(string); ok {
		j.Service = v
	}
	for _, ev := range s.Events() {
		j.Events = append(j.Events, EventJSON{Name: ev.Name, Time: ev.Time.UTC(), Attributes: attrMap(ev.Attributes)})
	}
	return j
}

func attrMap(kvs []attribute.KeyValue) map[string]any {
	m := make(map[string]any, len(kvs))
	for _, kv := range kvs {
		m[string(kv.Key)] = kv.Value.AsInterface()
	}
	return m
}

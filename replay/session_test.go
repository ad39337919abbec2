package replay

import (
	"testing"

	"github.com/pcmk-trace/pcmk-trace/decode"
)

func TestSession(t *testing.T) {
	const rec, live = "00abdf18-4eda-4099-850c-7b8d3ba828e0", "5c1e2d3f-0000-4000-8000-123456789abc"
	var s Session
	// Replies without an id, or with the same id, or with a short one, teach nothing.
	s.Learn(&decode.Message{}, &decode.Message{ClientID: live})
	s.Learn(&decode.Message{ClientID: rec}, &decode.Message{ClientID: rec})
	s.Learn(&decode.Message{ClientID: "2"}, &decode.Message{ClientID: "3"})
	s.Learn(nil, &decode.Message{ClientID: live})
	if len(s.Values()) != 0 {
		t.Fatalf("learnt %v", s.Values())
	}
	// The CIB register reply.
	s.Learn(&decode.Message{Op: "register", Root: "cib_common_callback_worker", ClientID: rec},
		&decode.Message{Op: "register", Root: "cib_common_callback_worker", ClientID: live})
	if v := s.Values(); len(v) != 1 || v[rec] != live {
		t.Fatalf("learnt %v", v)
	}
	tests := []struct{ desc, in, want string }{
		{"async id", `<cib_command t="cib" cib_async_id="` + rec + `" cib_op="cib_query" cib_callid="2"/>`,
			`<cib_command t="cib" cib_async_id="` + live + `" cib_op="cib_query" cib_callid="2"/>`},
		{"any attribute of any element, single quotes too",
			`<a><b x='` + rec + `'/><c y="` + rec + `"/></a>`,
			`<a><b x='` + live + `'/><c y="` + live + `"/></a>`},
		{"not inside a longer value, not in text",
			`<a x="` + rec + `-1">` + rec + `</a>`, `<a x="` + rec + `-1">` + rec + `</a>`},
		{"nothing to change", `<a x="1"/>`, `<a x="1"/>`},
	}
	for _, tt := range tests {
		if got := string(s.Rewrite([]byte(tt.in))); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.desc, got, tt.want)
		}
	}
	// A later sign-on on the same connection replaces the value.
	const live2 = "99999999-0000-4000-8000-123456789abc"
	s.Learn(&decode.Message{ClientID: rec}, &decode.Message{ClientID: live2})
	if v := s.Values(); len(v) != 1 || v[rec] != live2 {
		t.Fatalf("learnt %v", v)
	}
	// Values that need escaping are matched escaped.
	s.Learn(&decode.Message{ClientID: `client<"a">`}, &decode.Message{ClientID: "client-b-123"})
	if got := string(s.Rewrite([]byte(`<a id="client&lt;&quot;a&quot;&gt;"/>`))); got != `<a id="client-b-123"/>` {
		t.Errorf("escaped value: %s", got)
	}
}

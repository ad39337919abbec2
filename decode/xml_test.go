package decode

import (
	"strings"
	"testing"
)

func TestScanXML(t *testing.T) {
	for _, tc := range []struct {
		desc string
		text string
		err  string // substring; "" for well-formed
	}{
		{"empty element", `<a/>`, ""},
		{"nested with text", `<a x="1"><b>text &amp; more</b><c y='2'/></a>`, ""},
		{"declaration, comment, PI, CDATA", `<?xml version="1.0"?><!-- hi --><a><![CDATA[<not markup>]]><?pi x?></a>  `, ""},
		{"DOCTYPE with internal subset", `<!DOCTYPE a [<!ELEMENT a ANY>]><a/>`, ""},
		{"character references", `<a v="&#10;&#x41;&lt;&quot;"/>`, ""},
		{"space around =", `<a x = "1" />`, ""},
		{"UTF-8 names and values", `<ü a="ö"/>`, ""},
		{"no root", `   `, "no root element"},
		{"text before root", `hello<a/>`, "text before the root element"},
		{"not closed", `<a><b/>`, "<a> not closed"},
		{"mismatched end tag", `<a></b>`, "</b> closes <a>"},
		{"second root", `<a/><b/>`, "content after the root element"},
		{"unquoted attribute", `<a x=1/>`, "not quoted"},
		{"attribute without value", `<a x/>`, "expected = after attribute x"},
		{"attribute value not closed", `<a x="1/>`, "value not closed"},
		{"attributes run together", `<a x="1"y="2"/>`, "expected space before attribute"},
		{"< in attribute", `<a x="<"/>`, "'<' in attribute x value"},
		{"bare ampersand", `<a>&</a>`, "invalid reference"},
		{"unknown entity", `<a>&nbsp;</a>`, "invalid reference"},
		{"reference to a control character", `<a>&#1;</a>`, "invalid reference"},
		{"start tag not closed", `<a x="1"`, "start tag not closed"},
		{"bad element name", `<1a/>`, "invalid element name"},
		{"comment not closed", `<a><!-- x</a>`, "comment not closed"},
		{"CDATA not closed", `<a><![CDATA[x</a>`, "CDATA section not closed"},
		{"]]> in text", `<a>x]]></a>`, "]]> in text outside a CDATA section"},
		{"two colons in a name", `<a:b:c/>`, "invalid element name"},
		{"XML 1.0 declared with single quotes", `<?xml version='1.0' encoding='UTF-8'?><a/>`, ""},
		{"XML version other than 1.0", `<?xml version="1.1"?><a/>`, `version "1.1"`},
		{"version found inside another name, as etree finds it", `<?xml xversion="0"?><a/>`, `version "0"`},
		{"attribute name outside XML 1.0's letters", `<a Ԡ=""/>`, "attribute name"},
		{"element name outside XML 1.0's letters", `<aԠ/>`, "element name"},
		{"empty comment", `<!----><a/>`, ""},
		{"-- in a comment", `<a><!-- a -- b --></a>`, `"--" in a comment`},
		{"- before a comment's end", `<!-- a ---><a/>`, `"--" in a comment`},
		{"-> in a comment", `<!--->--><a/>`, ""},
		{"DOCTYPE nesting on < and >, as encoding/xml", `<!DOCTYPE a [<!ENTITY e "x">]><a/>`, ""},
		{"DOCTYPE with a < not closed", `<!DOCTYPE a [<]><a/>`, "DOCTYPE not closed"},
		{"DOCTYPE with a comment holding >", `<!DOCTYPE a [<!-- > --> ]><a/>`, ""},
		{"PI target with two colons", `<?a:b:c x?><a/>`, ""},
		{"reference to a surrogate (read as U+FFFD)", `<a x="&#xD800;">&#xDFFF;</a>`, ""},
		{"1024 nested elements", strings.Repeat("<a>", 1024) + strings.Repeat("</a>", 1024), ""},
		{"1025 nested elements", strings.Repeat("<a>", 1024) + "<b/>" + strings.Repeat("</a>", 1024), "nested deeper than 1024"},
		{"invalid UTF-8", "<a>\xc3</a>", "invalid UTF-8"},
		{"NUL", "<a>\x00</a>", "NUL byte"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var s xmlScanner
			err := s.scan([]byte(tc.text))
			switch {
			case tc.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
				t.Errorf("error %v, want %q", err, tc.err)
			}
		})
	}
}

func TestXMLFields(t *testing.T) {
	for _, tc := range []struct {
		desc string
		text string
		want Message
	}{
		{"cibadmin register (2.1.5)", registerXML,
			Message{Root: "cib_command", Op: "register", T: "cib"}},
		{"async CIB query", xmlCibQuery(uuidCibadmin, 2, 0),
			Message{Root: "cib_command", Op: "cib_query", T: "cib", CallID: "2", ClientID: uuidCibadmin}},
		{"CIB reply", xmlCibReply("cib_query", 2, uuidCibadmin, ""),
			Message{Root: "cib-reply", Op: "cib_query", T: "cib", CallID: "2", ClientID: uuidCibadmin, RC: "0"}},
		{"CIB diff notification: op is the notification type", xmlCibDiffNotify,
			Message{Root: "notify", Op: "cib_diff_notify", T: "cib_notify", Subt: "cib_diff_notify", RC: "0"}},
		{"fencer notification", `<st_notify t="st_notify" subt="st_notify_fence" st_op="st_fence" st_rc="0"/>`,
			Message{Root: "st_notify", Op: "st_notify_fence", T: "st_notify", Subt: "st_notify_fence", RC: "0"}},
		{"controller request (2.1.x root)", xmlCtrlRequest("create_request_adv", "crmd", "ping", "ping-crmadmin-1-2", "crmd", "2345_crmadmin", "node1", ""),
			Message{Root: "create_request_adv", Op: "ping", T: "crmd", Subt: "request", Reference: "ping-crmadmin-1-2",
				SysTo: "crmd", SysFrom: "2345_crmadmin", HostTo: "node1", Src: "node1", Origin: "create_request_adv"}},
		{"pacemakerd reply (3.0 message root)", xmlCtrlReply("message", "pacemakerd", "ping", "ping-crm_mon-1-0", "2222_crm_mon", "pacemakerd", xmlPingResponsePcmkd),
			Message{Root: "message", Op: "ping", T: "pacemakerd", Subt: "response", Reference: "ping-crm_mon-1-0",
				SysTo: "2222_crm_mon", SysFrom: "pacemakerd", Src: "node1", Origin: "handle_ping_request"}},
		{"scheduler request (3.0)", `<message t="pengine" subt="request" crm_task="pe_calc" reference="pe_calc-dc-1-64"/>`,
			Message{Root: "message", Op: "pe_calc", T: "pengine", Subt: "request", Reference: "pe_calc-dc-1-64"}},
		{"attrd update", xmlAttrdUpdate,
			Message{Root: "create_attrd_op", Op: "update", T: "attrd", Src: "crm_attribute"}},
		{"attrd ack: rc is the status", xmlAttrdAck,
			Message{Root: "ack", Op: "ack", RC: "112", Origin: "attrd_ipc_dispatch"}},
		{"fencer query", xmlStQuery,
			Message{Root: "stonith_command", Op: "st_query", T: "stonith-ng", CallID: "2", ClientID: uuidStonith}},
		{"execd exec", xmlLrmdExec,
			Message{Root: "lrmd_command", Op: "lrmd_rsc_exec", T: "lrmd", ClientID: uuidCtrl, Origin: "lrmd_send_command"}},
		{"execd reply", xmlLrmdReply,
			Message{Root: "lrmd_reply", Op: "lrmd_reply", CallID: "30", RC: "30", Origin: "process_lrmd_message"}},
		{"execd completion: rc is the exec rc", xmlLrmdNotify,
			Message{Root: "lrmd_notify", Op: "lrmd_rsc_exec", CallID: "30", RC: "7", Origin: "send_cmd_complete_notify"}},
		{"escaped attribute", `<a cib_op="x&amp;y&#x21;"/>`,
			Message{Root: "a", Op: "x&y!"}},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			var s xmlScanner
			if err := s.scan([]byte(tc.text)); err != nil {
				t.Fatal(err)
			}
			var m Message
			m.setXMLFields(s.root, s.attrs, nil)
			got := [...]string{m.Root, m.Op, m.T, m.Subt, m.SysFrom, m.SysTo, m.HostTo, m.Src, m.Reference, m.CallID, m.ClientID, m.RC, m.Origin}
			w := tc.want
			want := [...]string{w.Root, w.Op, w.T, w.Subt, w.SysFrom, w.SysTo, w.HostTo, w.Src, w.Reference, w.CallID, w.ClientID, w.RC, w.Origin}
			if got != want {
				t.Errorf("root, op, t, subt, sys_from, sys_to, host_to, src, reference, call_id, client_id, rc, origin:\ngot  %q\nwant %q", got, want)
			}
		})
	}
}

// TestFieldCache checks that a field's last value is handed out again only
// for the same text: one whose raw text is another's unescaped value is
// unescaped anew.
func TestFieldCache(t *testing.T) {
	var c fieldCache
	for _, tc := range []struct{ text, op, t, callID string }{
		{`<a cib_op="q" t="a&amp;lt;b" cib_callid="c&amp;lt;d"/>`, "q", "a&lt;b", "c&lt;d"},
		{`<a cib_op="q" t="a&lt;b" cib_callid="c&lt;d"/>`, "q", "a<b", "c<d"},
		{`<a cib_op="q" t="a&lt;b" cib_callid="c&lt;d"/>`, "q", "a<b", "c<d"},
		{`<a cib_op="r" t="cib" cib_callid="2"/>`, "r", "cib", "2"},
		{`<a cib_op="r" t="cib" cib_callid="2"/>`, "r", "cib", "2"},
		{`<b t="cib" cib_callid="3"/>`, "b", "cib", "3"},
		{`<a cib_op="r" t="x" cib_callid="2"/>`, "r", "x", "2"},
	} {
		var s xmlScanner
		if err := s.scan([]byte(tc.text)); err != nil {
			t.Fatal(err)
		}
		var m Message
		m.setXMLFields(s.root, s.attrs, &c)
		if m.Op != tc.op || m.T != tc.t || m.CallID != tc.callID {
			t.Errorf("%s: op %q t %q call id %q, want %q %q %q", tc.text, m.Op, m.T, m.CallID, tc.op, tc.t, tc.callID)
		}
	}
}

func TestIndent(t *testing.T) {
	for _, tc := range []struct {
		desc, in, want string
	}{
		{"nested", `<a x="1"><b/></a>`, "<a x=\"1\">\n  <b/>\n</a>"},
		{"broken text comes back as is", `<a><b></a>`, `<a><b></a>`},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			if got := string(Indent([]byte(tc.in))); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// scanRoot reads the root's start tag and nothing after it: a document broken
// later is not its concern, one broken before or in the start tag is.
func TestScanRoot(t *testing.T) {
	var s xmlScanner
	for _, tc := range []struct {
		text  string
		root  string
		attrs int
		ok    bool
	}{
		{`<cib_command cib_op="cib_query" cib_callid="3"/>`, "cib_command", 2, true},
		{`<?xml version="1.0"?><!-- c --><cib_command cib_op="x"><unclosed>`, "cib_command", 1, true},
		{`<cib_command cib_op="x">text & more`, "cib_command", 1, true},
		{`  text <a/>`, "", 0, false},
		{`<a b="1" c=2/>`, "a", 1, false},
		{``, "", 0, false},
	} {
		err := s.scanRoot([]byte(tc.text))
		if (err == nil) != tc.ok || string(s.root) != tc.root || len(s.attrs) != tc.attrs {
			t.Errorf("%q: root %q, %d attributes, error %v", tc.text, s.root, len(s.attrs), err)
		}
	}
	if err := s.scan([]byte(`<cib_command cib_op="x"><unclosed>`)); err == nil {
		t.Error("scan took a document that scanRoot need not check")
	}
}

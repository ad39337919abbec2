// Package redact removes secrets from captured Pacemaker messages before
// anyone else sees them: fence device passwords, API keys and whatever a
// user marks as secret.
//
// A secret is the value of an XML attribute whose name matches [Rules], or
// the value attribute of an element (an nvpair, a CIB diff's change-attr)
// whose name attribute matches, or a literal value given by the user,
// wherever it appears in attribute values or text. The default names,
// compared without regard to case, are those containing "passw", "secret",
// "token", "community" or "login"; those ending in "key" or having "key" as
// a word between separators (authkey, api_key, ssh-key; not keyboard,
// monkeys), except Pacemaker's own transition-key and operation_key; and,
// in a fence device's parameters only, those containing "user".
//
// A fence device's parameters are the elements inside one that has
// class="stonith" or lrmd_class="stonith" (a CIB primitive, an executor
// request) or an agent attribute naming a fence_ agent, and every element of
// a message to or from the fencer.
//
// Each secret becomes a placeholder of the same length, so no size in the
// message changes unless the body is compressed: "*" for one byte, "**" for
// two, else "*", then letters and digits, then "*". The letters and digits
// are an HMAC-SHA256 of the (unescaped) value under a key drawn at random
// for each [Redactor]: the same secret gives the same placeholder throughout
// a capture, different secrets almost always differ, and nothing about the
// value can be learned without the key, which is never stored. A value
// written with XML escapes (&amp;) keeps the length of its escaped form.
// [IsPlaceholder] tells a placeholder, so that replay can treat one as a
// wildcard.
//
// [Redactor.Record] works on every form a message takes: plain XML is
// redacted in place; a bzip2-compressed body (dialect A) is inflated,
// redacted and compressed again, its sizes fixed up; the parts of a
// multipart message (dialect B) are joined, redacted as one text and put
// back into the same parts. A compressed body that was cut short by the
// recorder's snaplen cannot be inflated: its bytes are zeroed. Messages
// without a Pacemaker envelope (corosync's) are scanned where they lie,
// and literal values replaced anywhere in their bytes.
//
// Limits: the value of a CIB diff's change-attr is redacted when the
// change-result of the same message names it as secret, or when its name
// matches; a modified fence device "user" whose diff does not show the
// device is not recognised. A multipart message whose parts do not all
// arrive (a loss, the end of the capture) is redacted part by part, so a
// secret split across two of its parts may survive in part; [Stats]
// counts such parts. Literal values are replaced in attribute values and
// text, not in element or attribute names.
package redact

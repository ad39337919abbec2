// Package decode turns capture records into Pacemaker IPC messages: the
// libqb header; the 40-byte Pacemaker envelope in either dialect (A:
// Pacemaker 2.1.x and 3.0.0, B: 3.0.1 and later), detected per connection
// from the bytes; bzip2 bodies inflated under a hard ceiling; multipart
// messages reassembled per connection and direction; the operation,
// routing and correlation attributes of the XML root element; and every
// reply, ack or completion paired with its request, with its latency.
// corosync services are decoded at the libqb layer only.
//
// It is pure Go over bytes: it builds on any OS, never logs and never
// exits. Damaged input yields a [Message] whose Err is a *[FormatError]
// naming the record and the byte offset, and decoding goes on; truncated
// records and the recorder's loss records are shown as such, never as
// errors. Memory is bounded by the messages in flight (see [Options]).
//
// A [Reader] works like archive/tar's: Next returns one message at a time
// and io.EOF at the end. [TextFormatter], [JSONFormatter] and
// [XMLFormatter] write messages out; the JSON keys are a stable contract,
// documented in JSON.md.
//
//	cr, err := capfile.NewReader(bufio.NewReader(f))
//	if err != nil {
//		return err
//	}
//	r := decode.NewReader(cr, decode.Options{})
//	out := decode.NewJSONFormatter(os.Stdout)
//	for {
//		m, err := r.Next()
//		if err == io.EOF {
//			break
//		}
//		if err != nil {
//			return err
//		}
//		if err := out.Format(m); err != nil {
//			return err
//		}
//	}
//	if err := out.Close(); err != nil {
//		return err
//	}
//	if st := r.Stats(); st.Errors > 0 {
//		// some messages could not be decoded: exit status 1
//	}
package decode

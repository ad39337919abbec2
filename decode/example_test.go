package decode_test

import (
	"bufio"
	"fmt"
	"io"
	"os"

	"github.com/pcmk-trace/pcmk-trace/capfile"
	"github.com/pcmk-trace/pcmk-trace/decode"
)

// Example decodes a capture of Pacemaker 3.0.3 (envelope dialect B) and
// prints the first messages of one cibadmin run: its sign-on, then a
// multipart request and the reply paired with it.
func Example() {
	f, err := os.Open("../testdata/captures/sid-big-cib.pcapng")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	cr, err := capfile.NewReader(bufio.NewReader(f))
	if err != nil {
		fmt.Println(err)
		return
	}
	r := decode.NewReader(cr, decode.Options{})
	var conn string // the first cibadmin connection
	for n := 0; n < 4; {
		m, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		if m.Err != nil {
			fmt.Println(m.Err) // this message could not be decoded; go on
			continue
		}
		if conn == "" && m.Comm == "cibadmin" {
			conn = m.Conn
		}
		if m.Conn != conn || m.Kind != decode.KindMessage {
			continue
		}
		n++
		fmt.Printf("%s %s %s id=%d dialect %s flags %s, %d bytes in %d part(s)",
			m.Service, m.Role, m.Op, m.QBID, m.Dialect, m.Flags.Format(m.Dialect), m.Size, m.Parts)
		if m.ReplyTo != nil {
			fmt.Printf(", answers #%d by %s", m.ReplyTo.Seq, m.ReplyTo.By)
		}
		fmt.Println()
	}
	// Output:
	// cib_rw request register id=1 dialect B flags client_response, 141 bytes in 1 part(s)
	// cib_rw reply register id=1 dialect B flags client_response|server_free, 129 bytes in 1 part(s), answers #2 by qb_id
	// cib_rw request cib_create id=2 dialect B flags client_response, 164961 bytes in 2 part(s)
	// cib_rw reply cib_create id=2 dialect B flags server_free, 178 bytes in 1 part(s), answers #5 by qb_id
}

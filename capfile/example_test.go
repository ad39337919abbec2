package capfile_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/pcmk-trace/pcmk-trace/capfile"
)

// Example reads a capture recorded from a Pacemaker 2.1.5 test cluster:
// the section's metadata, then the first records, each with the identity
// the recorder put in its pseudo-header.
func Example() {
	f, err := os.Open("../testdata/captures/bookworm-workload.pcapng")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, err := capfile.NewReader(bufio.NewReader(f))
	if err != nil {
		fmt.Println(err)
		return
	}
	sec := r.Section()
	fmt.Println("libqb:", sec.LibQB[0])
	fmt.Println("pacemaker:", sec.Pacemaker[0])
	for i := 0; i < 4; i++ {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		var fe *capfile.FormatError
		if errors.As(err, &fe) {
			continue // one damaged record; the next one may be fine
		}
		if err != nil {
			fmt.Println(err)
			return
		}
		switch rec.Kind {
		case capfile.KindConnect:
			fmt.Printf("#%d connect %s over %s, client %d, server %d, max %d bytes\n",
				rec.Seq, rec.Service, rec.Transport, rec.ClientPID, rec.ServerPID, rec.MaxMsgSize)
		case capfile.KindMessage:
			fmt.Printf("#%d %s %s by %s (%s): %d of %d bytes\n",
				rec.Seq, rec.Service, rec.Channel, rec.Comm, rec.Hook, len(rec.Data), rec.OrigLen)
		default:
			fmt.Printf("#%d %s\n", rec.Seq, rec.Kind)
		}
	}
	// Output:
	// libqb: 2.0.6 /usr/lib/x86_64-linux-gnu/libqb.so.100.3.0
	// pacemaker: 2.1.5-1+deb12u1
	// #1 connect cib_rw over shm, client 75, server 54, max 524288 bytes
	// #2 cib_rw request by cibadmin (rb-commit): 126 of 126 bytes
	// #3 cib_rw response by pacemaker-based (rb-commit): 140 of 140 bytes
	// #4 cib_rw request by cibadmin (rb-commit): 188 of 188 bytes
}

package qbipc_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

// Example signs on to the CIB's read-only service of a Pacemaker 2.1.5
// node and runs a synchronous query: the reply comes on the response
// channel. It needs a running cluster and root (or the hacluster user), so
// it is compiled but not run.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := qbipc.Dial(ctx, "cib_ro", qbipc.Options{
		Dialect:    qbipc.DialectA, // Pacemaker 2.1.x and 3.0.0; DialectB from 3.0.1
		MaxMsgSize: 512 * 1024,     // what the CIB library asks for
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	fmt.Println("transport", c.Transport(), "max", c.MaxMsgSize())

	// Sign on: the reply carries the client id later requests echo.
	reg, err := c.Request(ctx, `<cib_command t="cib" cib_op="register" cib_clientname="example" cib_callopt="4096"/>`,
		qbipc.FlagClientResponse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("register: %s\n", reg.XML)

	// cib_callopt 4352 is a synchronous local query, as crm_mon sends it;
	// with FlagClientResponse, Request waits for the reply on the response
	// channel (asynchronous calls are answered as events: RecvEventMessage).
	q, err := c.Request(ctx, `<cib_command t="cib" cib_op="cib_query" cib_callid="2" cib_callopt="4352"/>`,
		qbipc.FlagClientResponse)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("query: id %d, %d part(s), %d bytes of XML\n", q.Header.ID, q.Parts, len(q.XML))
}

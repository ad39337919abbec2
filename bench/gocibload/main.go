// Command gocibload is the Go twin of bench/cibload.c: the same request load, written
// against pcmk-trace's pure-Go libqb client (replay/qbipc) instead of libqb's C client.
// It registers with a CIB service, then runs N synchronous CIB queries back to back and
// prints one line: "ops=N seconds=S rate=R/s p50_us=X p99_us=Y".
//
//	gocibload [-s cib_ro] [-n 10000] [-d A|B] [-x XPATH]
//
// -d picks the Pacemaker envelope: A for 2.1.x and 3.0.0, B for 3.0.1 and later.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"regexp"
	"runtime/pprof"
	"slices"
	"strconv"
	"time"
	"unsafe"

	"github.com/pcmk-trace/pcmk-trace/replay/qbipc"
)

func main() {
	service := flag.String("s", "cib_ro", "CIB `service`")
	n := flag.Int("n", 10000, "number of queries")
	dialect := flag.String("d", "A", "Pacemaker envelope: A (2.1.x, 3.0.0) or B (3.0.1+)")
	xpath := flag.String("x", "", "query this `XPath` instead of the whole CIB")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile to `FILE`")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "gocibload:", err)
			os.Exit(1)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	if err := run(*service, *n, *dialect, *xpath); err != nil {
		pprof.StopCPUProfile()
		fmt.Fprintln(os.Stderr, "gocibload:", err)
		os.Exit(1)
	}
}

var clientIDRE = regexp.MustCompile(`cib_clientid="([^"]*)"`)

func run(service string, n int, dialect, xpath string) error {
	d := qbipc.DialectA
	if dialect == "B" {
		d = qbipc.DialectB
	}
	ctx := context.Background()
	c, err := qbipc.Dial(ctx, service, qbipc.Options{MaxMsgSize: 512 * 1024, Dialect: d})
	if err != nil {
		return err
	}
	defer c.Close()
	reg, err := c.Request(ctx, `<cib_command t="cib" cib_op="register" cib_clientname="cibload" cib_callopt="4096"/>`,
		qbipc.FlagClientResponse)
	if err != nil {
		return fmt.Errorf("register: %w", err)
	}
	clientID := ""
	if m := clientIDRE.FindSubmatch(reg.XML); m != nil {
		clientID = string(m[1])
	}
	// The query differs only in its call id: build it as cibload.c does, into one
	// reused buffer.
	head := `<cib_command t="cib" cib_async_id="` + clientID + `" cib_op="cib_query" cib_callid="`
	// cib_callopt 0x1100: sync call, local scope; +0x2 when an XPath selects the section.
	tail := `" cib_callopt="4352" cib_clientname="cibload"/>`
	if xpath != "" {
		tail = `" cib_callopt="4354" cib_clientname="cibload" cib_section="` + xpath + `"/>`
	}
	var buf []byte
	// Each reply is read whole into the memory of the one before, as cibload.c reads
	// every reply into one buffer.
	var reply qbipc.Message
	lat := make([]time.Duration, n)
	start := time.Now()
	for i := range n {
		buf = append(strconv.AppendInt(append(buf[:0], head...), int64(i+2), 10), tail...)
		// The query is a view of the buffer, not a copy: RequestInto copies the text into
		// the ring and keeps nothing of it, and the buffer changes only after it returns.
		// cibload.c, too, formats into one buffer and allocates nothing per query.
		xml := unsafe.String(&buf[0], len(buf))
		t0 := time.Now()
		if err := c.RequestInto(ctx, xml, qbipc.FlagClientResponse, &reply); err != nil {
			return fmt.Errorf("query %d: %w", i, err)
		}
		lat[i] = time.Since(t0)
	}
	secs := time.Since(start).Seconds()
	slices.Sort(lat)
	us := func(d time.Duration) float64 { return float64(d) / 1e3 }
	fmt.Printf("ops=%d seconds=%.3f rate=%.0f/s p50_us=%.1f p99_us=%.1f\n", n, secs, float64(n)/secs,
		us(lat[n/2]), us(lat[n*99/100]))
	return nil
}

// Package replay sends a capture's requests again to live Pacemaker daemons and
// compares the replies with the recorded ones. [ReadCapture] rebuilds each client
// connection of a capture as a [Conversation]: its requests in order, each with the
// replies decode paired with it. [Run] replays every conversation on a new connection
// (package qbipc) to the same service, in recorded time order, learning the client ids
// the daemons hand out at sign-on and putting them into later requests ([Session]);
// each live reply is compared with the recorded one as XML after a [Mask] leaves out
// what differs from run to run, and the [Report] counts, per operation, what was sent,
// answered, matched, diverged, failed or refused, with recorded and replayed latency
// and a [Diff] for every divergence.
//
// Replay is read-only unless asked: operations are classified per daemon ([Ops],
// OPS.md), unknown ones count as writes, and writes are refused without
// Options.AllowWrites. Conversations of Pacemaker daemons (controld's CIB updates and
// the like) are left out unless Options.AllClients; corosync services never replay.
// The default mask is in MASK.md; the JSON report's keys in JSON.md.
//
// The package never logs and never exits; problems with single requests are results.
//
//	f, err := os.Open("ro.pcapng")
//	...
//	c, err := replay.ReadCapture(bufio.NewReader(f))
//	...
//	rep, err := replay.Run(ctx, c, replay.Options{
//		ASAP: true,
//		Dial: replay.DialQB(func(ctx context.Context, service string, o qbipc.Options) (*qbipc.Client, error) {
//			return qbipc.DialInNamespace(ctx, sandboxPID, service, o)
//		}),
//	})
//	...
//	rep.WriteText(os.Stdout, replay.TextOptions{})
//	if rep.Totals.Diverged > 0 {
//		// the daemons answer differently now
//	}
package replay

package decode

// family groups libqb services by the daemon behind them, which decides
// how requests are answered (docs/protocol.md 7.4 and 8.2).
type family uint8

const (
	famOther      family = iota // unknown: decoded as Pacemaker only if the bytes say so
	famCorosync                 // cpg, cmap, quorum, cfg, votequorum: libqb layer only
	famCIB                      // pacemaker-based: cib_ro, cib_rw, cib_shm
	famController               // pacemaker-controld: crmd
	famPacemakerd               // pacemakerd
	famScheduler                // pacemaker-schedulerd: pengine
	famAttrd                    // pacemaker-attrd
	famExecd                    // pacemaker-execd (or pacemaker-remoted): lrmd
	famFencer                   // pacemaker-fenced: stonith-ng
)

func serviceFamily(service string) family {
	switch service {
	case "cib_ro", "cib_rw", "cib_shm":
		return famCIB
	case "crmd":
		return famController
	case "pacemakerd":
		return famPacemakerd
	case "pengine":
		return famScheduler
	case "attrd":
		return famAttrd
	case "lrmd":
		return famExecd
	case "stonith-ng":
		return famFencer
	case "cpg", "cmap", "quorum", "cfg", "votequorum":
		return famCorosync
	}
	return famOther
}

// controllerStyle reports whether replies are matched by reference and
// come as events after an optional ack.
func (f family) controllerStyle() bool {
	return f == famController || f == famPacemakerd || f == famScheduler
}

// wantsEventReply reports whether a request gets its reply (or its real
// reply, after an ack) on the event channel, from what the daemons do in
// Pacemaker 2.1.5 to 3.0.x:
//   - based and fenced answer requests without client_response
//     asynchronously, as events, except register and notification
//     subscriptions;
//   - controld, pacemakerd and schedulerd send the reply as an event
//     whether or not an ack came first; hello and node-cache purges get
//     none.
func wantsEventReply(f family, op string, flags Flags) bool {
	switch f {
	case famCIB:
		return flags&FlagClientResponse == 0 && op != "register" && op != "cib_notify" && op != ""
	case famFencer:
		return flags&FlagClientResponse == 0 && op != "register" && op != "st_notify" && op != ""
	case famController:
		switch op {
		case "ping", "node-info", "list-nodes", "probe_again", "lrm_fail", "lrm_delete", "lrm_invoke":
			return true
		}
	case famPacemakerd:
		return op == "ping" || op == "quit"
	case famScheduler:
		return op == "pe_calc"
	}
	return false
}

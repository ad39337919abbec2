package decode

import "github.com/pcmk-trace/pcmk-trace/pcmk"

// How requests are answered depends on the daemon behind a service, its
// pcmk.Family (docs/protocol.md 7.4 and 8.2).

// controllerStyle reports whether replies are matched by reference and
// come as events after an optional ack.
func controllerStyle(f pcmk.Family) bool {
	return f == pcmk.FamilyController || f == pcmk.FamilyPacemakerd || f == pcmk.FamilyScheduler
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
func wantsEventReply(f pcmk.Family, op string, flags Flags) bool {
	switch f {
	case pcmk.FamilyCIB:
		return flags&pcmk.FlagClientResponse == 0 && op != "register" && op != "cib_notify" && op != ""
	case pcmk.FamilyFencer:
		return flags&pcmk.FlagClientResponse == 0 && op != "register" && op != "st_notify" && op != ""
	case pcmk.FamilyController:
		switch op {
		case "ping", "node-info", "list-nodes", "probe_again", "lrm_fail", "lrm_delete", "lrm_invoke":
			return true
		}
	case pcmk.FamilyPacemakerd:
		return op == "ping" || op == "quit"
	case pcmk.FamilyScheduler:
		return op == "pe_calc"
	}
	return false
}

package replay

import (
	"strconv"

	"github.com/pcmk-trace/pcmk-trace/decode"
	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// Class says whether sending a request again can change the cluster.
type Class uint8

const (
	// ClassWrite is an operation that changes cluster state (configuration, status,
	// attributes, resources, fencing) or that the table does not know. It is the zero
	// value, so anything unclassified is treated as a write.
	ClassWrite Class = iota
	// ClassRead is an operation that only reads, signs on or subscribes.
	ClassRead
)

// String returns "read" or "write".
func (c Class) String() string {
	if c == ClassRead {
		return "read"
	}
	return "write"
}

// An OpInfo is one row of the operation table: an operation of one daemon, its class,
// and why.
type OpInfo struct {
	Daemon string // based, controld, pacemakerd, schedulerd, attrd, execd, fenced
	Op     string // as decode names it: cib_op, crm_task, task, lrmd_op or st_op
	Class  Class
	Note   string
}

// opTable lists every operation pcmk-trace knows, per daemon (docs/protocol.md 8.2 and
// 8.3). OPS.md shows the same table; a test keeps them in step.
var opTable = []OpInfo{
	// pacemaker-based: cib_ro, cib_rw, cib_shm (cib_op)
	{"based", "register", ClassRead, "sign-on: the daemon hands out cib_clientid"},
	{"based", "cib_query", ClassRead, "read the CIB or a section or XPath of it"},
	{"based", "cib_notify", ClassRead, "subscribe to notifications"},
	{"based", "cib_ismaster", ClassRead, "ask whether this instance is the primary"},
	{"based", "noop", ClassRead, "does nothing"},
	{"based", "cib_schemas", ClassRead, "list the schemas (3.0)"},
	{"based", "cib_create", ClassWrite, "add XML"},
	{"based", "cib_modify", ClassWrite, "change XML"},
	{"based", "cib_delete", ClassWrite, "remove XML"},
	{"based", "cib_delete_alt", ClassWrite, "remove XML"},
	{"based", "cib_replace", ClassWrite, "replace the CIB or a section"},
	{"based", "cib_erase", ClassWrite, "empty the CIB"},
	{"based", "cib_apply_diff", ClassWrite, "apply a patch"},
	{"based", "cib_upgrade", ClassWrite, "upgrade the schema"},
	{"based", "cib_bump", ClassWrite, "increase the epoch"},
	{"based", "cib_commit_transact", ClassWrite, "commit a transaction (3.0)"},
	{"based", "cib_master", ClassWrite, "make this instance the primary"},
	{"based", "cib_slave", ClassWrite, "make this instance a secondary"},
	{"based", "cib_slave_all", ClassWrite, "make every instance a secondary"},
	{"based", "cib_sync", ClassWrite, "push the CIB to all nodes"},
	{"based", "cib_sync_one", ClassWrite, "push the CIB to one node"},
	{"based", "cib_shutdown_req", ClassWrite, "ask the CIB manager to stop"},

	// pacemaker-controld: crmd (crm_task)
	{"controld", "hello", ClassRead, "sign-on, no reply"},
	{"controld", "ping", ClassRead, "controller state (crmadmin -S, -D)"},
	{"controld", "node-info", ClassRead, "the local node (crm_node -n, -q, -i)"},
	{"controld", "list-nodes", ClassRead, "cluster members (crm_node -l)"},
	{"controld", "lrm_invoke", ClassWrite, "run a resource action"},
	{"controld", "lrm_delete", ClassWrite, "forget a resource's history (crm_resource --cleanup)"},
	{"controld", "lrm_fail", ClassWrite, "fail a resource (crm_resource --fail)"},
	{"controld", "lrm_refresh", ClassWrite, "refresh resource history"},
	{"controld", "probe_again", ClassWrite, "reprobe (crm_resource --reprobe)"},
	{"controld", "rm_node_cache", ClassWrite, "forget a node (crm_node -R)"},
	{"controld", "die_no_respawn", ClassWrite, "stop the controller for good"},
	{"controld", "quit", ClassWrite, "stop the controller"},
	{"controld", "shutdown", ClassWrite, "stop the node"},

	// pacemakerd: pacemakerd (crm_task)
	{"pacemakerd", "ping", ClassRead, "daemon state (crm_mon, crmadmin -P)"},
	{"pacemakerd", "quit", ClassWrite, "stop the cluster stack on the node"},
	{"pacemakerd", "rm_node_cache", ClassWrite, "forget a node"},
	{"pacemakerd", "shutdown", ClassWrite, "stop the cluster stack on the node"},

	// pacemaker-schedulerd: pengine (crm_task)
	{"schedulerd", "pe_calc", ClassRead, "compute a transition; the scheduler also saves its input as a pe-input file"},

	// pacemaker-attrd: attrd (task)
	{"attrd", "query", ClassRead, "read an attribute (attrd_updater -Q)"},
	{"attrd", "update", ClassWrite, "set or, without a value, delete an attribute"},
	{"attrd", "update-both", ClassWrite, "set an attribute and its dampening"},
	{"attrd", "update-delay", ClassWrite, "set an attribute's dampening"},
	{"attrd", "refresh", ClassWrite, "write every attribute to the CIB again"},
	{"attrd", "flush", ClassWrite, "write attributes to the CIB"},
	{"attrd", "peer-remove", ClassWrite, "forget a node's attributes"},
	{"attrd", "clear-failure", ClassWrite, "clear fail counts (crm_resource --cleanup)"},
	{"attrd", "sync", ClassWrite, "peer synchronization"},
	{"attrd", "sync-response", ClassWrite, "peer synchronization"},

	// pacemaker-execd: lrmd (lrmd_op)
	{"execd", "register", ClassRead, "sign-on: the daemon hands out lrmd_clientid"},
	{"execd", "lrmd_rsc_info", ClassRead, "a resource's registration"},
	{"execd", "lrmd_rsc_metadata", ClassRead, "an agent's meta-data"},
	{"execd", "lrmd_get_recurring", ClassRead, "recurring operations"},
	{"execd", "lrmd_check", ClassRead, "Pacemaker Remote check"},
	{"execd", "lrmd_rsc_poke", ClassRead, "keep-alive"},
	{"execd", "lrmd_rsc_register", ClassWrite, "register a resource"},
	{"execd", "lrmd_rsc_unregister", ClassWrite, "unregister a resource"},
	{"execd", "lrmd_rsc_exec", ClassWrite, "run a resource action (start, stop, monitor)"},
	{"execd", "lrmd_rsc_cancel", ClassWrite, "cancel a recurring action"},
	{"execd", "lrmd_rsc_check_register", ClassWrite, "register a resource after a check"},
	{"execd", "lrmd_alert_exec", ClassWrite, "run an alert agent"},

	// pacemaker-fenced: stonith-ng (st_op)
	{"fenced", "register", ClassRead, "sign-on: the daemon hands out st_clientid"},
	{"fenced", "st_query", ClassRead, "devices that can fence a node (stonith_admin -l, -L)"},
	{"fenced", "st_fence_history", ClassRead, "fencing history; a write with the cleanup call option (0x80000)"},
	{"fenced", "st_notify", ClassRead, "subscribe to notifications"},
	{"fenced", "st_fence", ClassWrite, "fence a node"},
	{"fenced", "st_execute", ClassWrite, "run a fence agent action"},
	{"fenced", "st_relay", ClassWrite, "fence through a peer"},
	{"fenced", "st_device_register", ClassWrite, "add a fence device"},
	{"fenced", "st_device_remove", ClassWrite, "remove a fence device"},
	{"fenced", "st_level_add", ClassWrite, "add a topology level"},
	{"fenced", "st_level_remove", ClassWrite, "remove a topology level"},
	{"fenced", "st_timeout_update", ClassWrite, "change a pending operation's timeout"},
}

// stOptCleanup is the fencer call option that makes st_fence_history erase the history.
const stOptCleanup = 0x80000

// Ops returns the operation table: every operation the replayer classifies, per daemon.
func Ops() []OpInfo { return append([]OpInfo(nil), opTable...) }

// Daemon returns the daemon behind a libqb service ("based" for cib_ro, cib_rw and
// cib_shm, "controld" for crmd, ...), or "" for a service that is not Pacemaker's.
func Daemon(service string) string { return pcmk.ServiceFamily(service).Daemon() }

var opIndex = func() map[[2]string]OpInfo {
	m := make(map[[2]string]OpInfo, len(opTable))
	for _, o := range opTable {
		m[[2]string{o.Daemon, o.Op}] = o
	}
	return m
}()

// LookupOp returns the table's row for an operation of a service.
func LookupOp(service, op string) (OpInfo, bool) {
	o, ok := opIndex[[2]string{Daemon(service), op}]
	return o, ok
}

// Classify returns the class of a recorded request: the table's, except that a fence
// history request with the cleanup call option is a write. Unknown operations, and
// requests of services that are not Pacemaker's, are writes.
func Classify(m *decode.Message) Class {
	o, ok := LookupOp(m.Service, m.Op)
	if !ok {
		return ClassWrite
	}
	if o.Daemon == "fenced" && o.Op == "st_fence_history" {
		v, _ := strconv.ParseUint(pcmk.RootAttr(m.XML, "st_callopt"), 0, 64)
		if v&stOptCleanup != 0 {
			return ClassWrite
		}
	}
	return o.Class
}

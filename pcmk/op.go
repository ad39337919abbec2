package pcmk

// opAttrs are the root attributes that name a request's operation, best
// first: a message carrying several (a CIB request relayed by the
// controller has cib_op and crm_task) is named by the first.
var opAttrs = [...]string{"cib_op", "st_op", "lrmd_op", "crm_task", "task"}

// OpRankNone is the rank of an attribute that names no operation; every
// operation attribute ranks lower.
const OpRankNone = len(opAttrs)

// OpRank ranks the attributes that name an operation: 0 for cib_op, then
// st_op, lrmd_op, crm_task and task; lower wins. Other names rank
// OpRankNone.
func OpRank(name []byte) int {
	for i, a := range opAttrs {
		if string(name) == a {
			return i
		}
	}
	return OpRankNone
}

package pcmk

import (
	"slices"
	"strings"
)

// Family groups libqb services by the daemon behind them, which decides
// how requests are answered.
type Family uint8

const (
	FamilyOther      Family = iota // unknown: Pacemaker only if the bytes say so
	FamilyCorosync                 // cpg, cmap, quorum, cfg, votequorum: libqb layer only
	FamilyCIB                      // pacemaker-based: cib_ro, cib_rw, cib_shm
	FamilyController               // pacemaker-controld: crmd
	FamilyPacemakerd               // pacemakerd
	FamilyScheduler                // pacemaker-schedulerd: pengine
	FamilyAttrd                    // pacemaker-attrd: attrd
	FamilyExecd                    // pacemaker-execd (or pacemaker-remoted): lrmd
	FamilyFencer                   // pacemaker-fenced: stonith-ng
)

type serviceEntry struct {
	name   string
	family Family
}

// services is the table of known libqb services, sorted by name.
var services = []serviceEntry{
	{"attrd", FamilyAttrd},
	{"cfg", FamilyCorosync},
	{"cib_ro", FamilyCIB},
	{"cib_rw", FamilyCIB},
	{"cib_shm", FamilyCIB},
	{"cmap", FamilyCorosync},
	{"cpg", FamilyCorosync},
	{"crmd", FamilyController},
	{"lrmd", FamilyExecd},
	{"pacemakerd", FamilyPacemakerd},
	{"pengine", FamilyScheduler},
	{"quorum", FamilyCorosync},
	{"stonith-ng", FamilyFencer},
	{"votequorum", FamilyCorosync},
}

// daemons names the daemon of each Pacemaker family.
var daemons = [...]string{
	FamilyCIB:        "based",
	FamilyController: "controld",
	FamilyPacemakerd: "pacemakerd",
	FamilyScheduler:  "schedulerd",
	FamilyAttrd:      "attrd",
	FamilyExecd:      "execd",
	FamilyFencer:     "fenced",
}

// ServiceFamily returns the family of a libqb service name, FamilyOther
// for a service the table does not know.
func ServiceFamily(service string) Family {
	i, ok := slices.BinarySearchFunc(services, service, func(s serviceEntry, name string) int {
		return strings.Compare(s.name, name)
	})
	if !ok {
		return FamilyOther
	}
	return services[i].family
}

// Pacemaker reports whether the family speaks the Pacemaker envelope.
func (f Family) Pacemaker() bool { return f >= FamilyCIB }

// Daemon returns the short name of the daemon behind the family ("based",
// "controld", "pacemakerd", "schedulerd", "attrd", "execd", "fenced"), or
// "" for corosync and unknown services.
func (f Family) Daemon() string {
	if int(f) < len(daemons) {
		return daemons[f]
	}
	return ""
}

// Services returns the names of the known libqb services, sorted.
func Services() []string {
	names := make([]string, len(services))
	for i, s := range services {
		names[i] = s.name
	}
	return names
}

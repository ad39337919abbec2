package main

import (
	"fmt"
	"slices"
	"strings"
)

// knownServices returns the libqb services pcmk-trace knows, those decode
// names a daemon for, sorted.
func knownServices() []string {
	return []string{"attrd", "cfg", "cib_ro", "cib_rw", "cib_shm", "cmap", "cpg", "crmd", "lrmd",
		"pacemakerd", "pengine", "quorum", "stonith-ng", "votequorum"}
}

// checkServices returns an error naming the first service that is not known, and the known ones.
func checkServices(cmd string, services []string) error {
	known := knownServices()
	for _, s := range services {
		if !slices.Contains(known, s) {
			return fmt.Errorf("%s: unknown service %q (known: %s)", cmd, s, strings.Join(known, ", "))
		}
	}
	return nil
}

package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pcmk-trace/pcmk-trace/pcmk"
)

// checkServices returns an error naming the first service that is not known, and the known ones.
func checkServices(cmd string, services []string) error {
	known := pcmk.Services()
	for _, s := range services {
		if !slices.Contains(known, s) {
			return fmt.Errorf("%s: unknown service %q (known: %s)", cmd, s, strings.Join(known, ", "))
		}
	}
	return nil
}

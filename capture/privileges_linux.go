//go:build linux && amd64

package capture

import (
	"fmt"
	"strings"

	"golang.org/x/sys/unix"
)

// checkPrivileges returns an ErrPermission naming the missing capabilities.
func checkPrivileges() error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return nil // let the kernel say no
	}
	has := func(c int) bool { return data[c/32].Effective&(1<<(c%32)) != 0 }
	if has(unix.CAP_SYS_ADMIN) {
		return nil
	}
	var missing []string
	if !has(unix.CAP_BPF) {
		missing = append(missing, "CAP_BPF")
	}
	if !has(unix.CAP_PERFMON) {
		missing = append(missing, "CAP_PERFMON")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("%w: run as root or with CAP_BPF and CAP_PERFMON (missing %s)", ErrPermission, strings.Join(missing, ", "))
}

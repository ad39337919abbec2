#!/bin/sh
# update.sh refreshes the vendored libbpf headers in bpf/headers/bpf/ from an
# installed libbpf (Debian: libbpf-dev). Nobody edits the copies by hand.
#
# Pinned: libbpf 1.1.2 (Debian 12 libbpf-dev 1:1.1.2-0+deb12u1).
# The headers are LGPL-2.1 OR BSD-2-Clause (see their SPDX lines).
#
# Usage: bpf/headers/update.sh [/usr/include/bpf]
set -eu

src=${1:-/usr/include/bpf}
dst=$(dirname "$0")/bpf

grep -h 'define LIBBPF_\(MAJOR\|MINOR\)_VERSION' "$src/libbpf_version.h"
mkdir -p "$dst"
for h in bpf_helpers.h bpf_helper_defs.h bpf_tracing.h bpf_core_read.h bpf_endian.h; do
	cp "$src/$h" "$dst/$h"
done

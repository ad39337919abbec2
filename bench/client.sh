#!/bin/bash
# client.sh: round-trip latency and rate of pcmk-trace's pure-Go libqb client against
# libqb's own C client, on the same request against the same daemon, in one run.
#
# It builds bench/cibload.c (C, linked with libqb) and bench/gocibload (Go, replay/qbipc,
# CGO_ENABLED=0), starts a sandboxed cluster (scripts/testcluster, instance bench-client,
# stopped again at the end unless it was already up), and runs the two clients alternately
# RUNS times each inside the sandbox: N synchronous cib_query requests of the whole CIB on
# SERVICE after one register, what crm_mon does. It prints every run, then a table of
# medians and the ratio Go/C (latency: below 1.0 means Go is faster; rate: above 1.0).
#
#   bench/client.sh                      # bookworm (Pacemaker 2.1.5), cib_ro, 20000 x 5
#   RELEASE=sid N=5000 bench/client.sh   # Pacemaker 3.0.x, dialect B
#
# Environment: RELEASE (bookworm, trixie, sid), SERVICE (cib_ro), N (20000), RUNS (5),
# XPATH (query only this XPath), KEEP=1 leaves the cluster running. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
RELEASE=${RELEASE:-bookworm}
SERVICE=${SERVICE:-cib_ro}
N=${N:-20000}
RUNS=${RUNS:-5}
XPATH=${XPATH:-}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench-client}

die() { echo "client.sh: $*" >&2; exit 1; }
[[ $EUID -eq 0 ]] || die "must run as root (the sandboxed cluster)"
command -v cc >/dev/null || die "no C compiler (run scripts/deps)"
[[ -f /usr/include/qb/qbipcc.h ]] || die "no libqb headers (apt-get install libqb-dev)"

case $RELEASE in
bookworm) root=/ dialect=A ;;
trixie) root=$(scripts/mkroot trixie) dialect=A ;;
sid) root=$(scripts/mkroot sid) dialect=B ;;
*) die "unknown release $RELEASE (bookworm, trixie, sid)" ;;
esac

# The binaries must be reachable inside the sandbox, whose root is $root and whose /run
# and /dev/shm are private: use $root/var/tmp.
inner=/var/tmp/pcmk-trace-bench-client.$$
build=${root%/}$inner
mkdir -p "$build"
started=no
cleanup() {
	rm -rf "$build"
	if [[ $started == yes && ${KEEP:-} != 1 ]]; then
		scripts/testcluster down >/dev/null || true
	fi
}
trap cleanup EXIT

cc -O2 -o "$build/cibload" bench/cibload.c -lqb
CGO_ENABLED=0 go build -trimpath -o "$build/gocibload" ./bench/gocibload

if ! scripts/testcluster status >/dev/null 2>&1; then
	scripts/testcluster up "$RELEASE" >&2
	started=yes
fi
if pgrep -f 'pcmk-trace record' >/dev/null; then
	echo "client.sh: warning: a pcmk-trace recorder runs; its uprobes slow the C client's libqb calls" >&2
fi

args=(-s "$SERVICE" -n "$N" -d "$dialect")
[[ -n $XPATH ]] && args+=(-x "$XPATH")
results=$(mktemp)
echo "Pacemaker $(scripts/testcluster exec pacemakerd --version | head -1 | sed 's/Pacemaker //'), $SERVICE, $N queries per run, $RUNS runs each, alternating"
# One warm-up each, not counted: the first run pays for page faults and the daemon's caches.
scripts/testcluster exec "$inner/cibload" "${args[@]}" -n 1000 >/dev/null
scripts/testcluster exec "$inner/gocibload" "${args[@]}" -n 1000 >/dev/null
for i in $(seq 1 "$RUNS"); do
	for client in cibload gocibload; do
		line=$(scripts/testcluster exec "$inner/$client" "${args[@]}")
		label=C
		[[ $client == gocibload ]] && label=Go
		printf '%-3s run %d: %s\n' "$label" "$i" "$line"
		echo "$label $line" >>"$results"
	done
done

# Medians per client, then the ratios.
awk '
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{
	c = $1
	for (f = 2; f <= NF; f++) { split($f, kv, "="); v = kv[2]; sub("/s", "", v); val[c, kv[1], ++cnt[c, kv[1]]] = v }
}
END {
	split("rate p50_us p99_us", keys, " ")
	for (k = 1; k <= 3; k++) for (ci = 1; ci <= 2; ci++) {
		c = ci == 1 ? "C" : "Go"; n = cnt[c, keys[k]]
		for (i = 1; i <= n; i++) tmp[i] = val[c, keys[k], i]
		m[c, keys[k]] = median(tmp, n)
	}
	printf "\n%-22s %12s %12s %10s\n", "median of " cnt["C", "rate"] " runs", "libqb (C)", "qbipc (Go)", "Go/C"
	printf "%-22s %12.0f %12.0f %10.3f\n", "rate (requests/s)", m["C", "rate"], m["Go", "rate"], m["Go", "rate"] / m["C", "rate"]
	printf "%-22s %12.1f %12.1f %10.3f\n", "p50 round trip (us)", m["C", "p50_us"], m["Go", "p50_us"], m["Go", "p50_us"] / m["C", "p50_us"]
	printf "%-22s %12.1f %12.1f %10.3f\n", "p99 round trip (us)", m["C", "p99_us"], m["Go", "p99_us"], m["Go", "p99_us"] / m["C", "p99_us"]
}' "$results"
rm -f "$results"

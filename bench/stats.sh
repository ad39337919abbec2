#!/bin/bash
# stats.sh: what pcmk-trace stats costs over decoding alone, on the large real capture of
# bench/decode.sh (the workload of every daemon plus N synchronous CIB queries from
# bench/cibload, recorded from a sandboxed 2.1.5 cluster), medians side by side; and the peak
# memory of stats on that capture and on one 10 times longer (bench/repeatcap: the same
# records 10 times over, each copy later than the last), which must stay flat. KEEP=DIR keeps
# both captures.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench-stats}
tmp=$(mktemp -d)
cleanup() {
	pkill -INT -f "$tmp/" 2>/dev/null || true
	scripts/testcluster down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -Wall -o "$tmp/cibload" bench/cibload.c -lqb
go build -o "$tmp/pcmk-trace" ./cmd/pcmk-trace
go build -o "$tmp/repeatcap" ./bench/repeatcap
scripts/testcluster up >/dev/null
init=$(scripts/testcluster pid)
cap=$tmp/large.pcapng
"$tmp/pcmk-trace" record -w "$cap" --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/rec.log" &
rec=$!
for _ in $(seq 1 200); do [[ -e $tmp/ready ]] && break; sleep 0.05; done
scripts/testcluster exec bash -s cib mon attrd fence ctl resource big <scripts/workload >/dev/null
scripts/testcluster exec "$tmp/cibload" -n "$N" >/dev/null
kill -INT "$rec"
wait "$rec"
scripts/testcluster down >/dev/null 2>&1 || true
msgs=$(sed -n '1s/^\([0-9]*\) messages.*/\1/p' "$tmp/rec.log")
"$tmp/repeatcap" -n 10 "$cap" "$tmp/large10.pcapng"
if [[ -n ${KEEP:-} ]]; then # KEEP=DIR keeps both captures for a closer look
	cp "$cap" "$tmp/large10.pcapng" "$KEEP/"
fi

timeit() { # timeit RUNS CMD... -> seconds (median of RUNS, an odd number)
	local runs=$1 i s e
	shift
	for ((i = 0; i < runs; i++)); do
		s=$(date +%s.%N)
		"$@" >/dev/null 2>&1
		e=$(date +%s.%N)
		echo "$e - $s" | bc -l
	done | sort -n | sed -n "$(((runs + 1) / 2))p"
}
peak() { # peak CMD... -> maximum resident set size in KiB (median of 3 runs)
	local i
	for ((i = 0; i < 3; i++)); do
		/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
	done | sort -n | sed -n 2p
}
dec=$(timeit 7 "$tmp/pcmk-trace" decode -f json "$cap")
st=$(timeit 7 "$tmp/pcmk-trace" stats "$cap")
stj=$(timeit 7 "$tmp/pcmk-trace" stats -f json "$cap")
mem1=$(peak "$tmp/pcmk-trace" stats "$cap")
mem10=$(peak "$tmp/pcmk-trace" stats "$tmp/large10.pcapng")
dmem1=$(peak "$tmp/pcmk-trace" decode -f json "$cap")
dmem10=$(peak "$tmp/pcmk-trace" decode -f json "$tmp/large10.pcapng")
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
awk -v m="$msgs" -v b="$(stat -c %s "$cap")" -v b10="$(stat -c %s "$tmp/large10.pcapng")" \
	-v d="$dec" -v s="$st" -v sj="$stj" -v m1="$mem1" -v m10="$mem10" -v dm1="$dmem1" -v dm10="$dmem10" -v cpu="$cpu" 'BEGIN {
	printf "stats, real capture of %d messages (%.1f MB), output to /dev/null, medians of 7 runs (%s)\n", m, b/1e6, cpu
	printf "  %-36s %8s %12s\n", "", "seconds", "messages/s"
	printf "  %-36s %8.3f %12.0f\n", "pcmk-trace decode -f json", d, m/d
	printf "  %-36s %8.3f %12.0f\n", "pcmk-trace stats (text, all tables)", s, m/s
	printf "  %-36s %8.3f %12.0f\n", "pcmk-trace stats -f json", sj, m/sj
	printf "  stats / decode: %.2fx (target <= 1.3x)\n", s/d
	printf "peak memory (max RSS, median of 3), the capture and one 10x as long (%.1f MB)\n", b10/1e6
	printf "  %-36s %8s %8s %8s\n", "", "1x MiB", "10x MiB", "ratio"
	printf "  %-36s %8.1f %8.1f %7.2fx\n", "pcmk-trace stats", m1/1024, m10/1024, m10/m1
	printf "  %-36s %8.1f %8.1f %7.2fx\n", "pcmk-trace decode -f json", dm1/1024, dm10/1024, dm10/dm1
	printf "  stats 10x / 1x: %.2fx (target <= 1.5x)\n", m10/m1
}'

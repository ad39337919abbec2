#!/bin/bash
# decode.sh: decode throughput on a large real capture, side by side with tshark and the
# project's Lua dissector on the same file (both writing JSON to /dev/null), medians.
# The capture: the workload of every daemon plus N synchronous CIB queries from bench/cibload,
# recorded from a sandboxed 2.1.5 cluster. KEEP=path keeps a copy of the capture there, to profile
# and benchmark on the same file afterwards (PCMK_TRACE_BENCH_CAPTURE=path go test -bench ./decode).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-10000}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench-decode}
tmp=$(mktemp -d)
cleanup() {
	pkill -INT -f "$tmp/" 2>/dev/null || true
	scripts/testcluster down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cc -O2 -Wall -o "$tmp/cibload" bench/cibload.c -lqb
go build -o "$tmp/pcmk-trace" ./cmd/pcmk-trace
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
msgs=$(sed -n 's/^\([0-9]*\) messages.*/\1/p' "$tmp/rec.log" | head -1)
bytes=$(stat -c %s "$cap")
if [[ -n ${KEEP:-} ]]; then cp "$cap" "$KEEP"; fi

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
# tshark takes seconds a run: 3 runs; ours a tenth of a second: 7 (noise matters more).
ours=$(timeit 7 "$tmp/pcmk-trace" decode -f json "$cap")
theirs=$(timeit 3 env HOME="$tmp" tshark -n -X lua_script:wireshark/pcmk-trace.lua -r "$cap" -T json)
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs; kernel $(uname -r)"
awk -v m="$msgs" -v b="$bytes" -v o="$ours" -v t="$theirs" 'BEGIN {
	printf "decode, real capture of %d messages (%.1f MB), JSON to /dev/null, medians of 7 and 3 runs\n", m, b/1e6
	printf "  %-44s %8s %12s %8s\n", "", "seconds", "messages/s", "MB/s"
	printf "  %-44s %8.3f %12.0f %8.1f\n", "pcmk-trace decode -f json", o, m/o, b/1e6/o
	printf "  %-44s %8.3f %12.0f %8.1f\n", "tshark -T json + wireshark/pcmk-trace.lua", t, m/t, b/1e6/t
	printf "  speed-up: %.0fx (target >= 50x)\n", t/o
}'

#!/bin/bash
# record.sh: what recording costs a real request load, side by side in one run.
#
# In a sandboxed 2.1.5 cluster, bench/cibload (libqb's own C client) runs N synchronous
# cib_ro queries (2 messages each) in three modes, interleaved over ROUNDS rounds:
#   none    no probes
#   empty   an empty uprobe on qb_rb_chunk_commit (bench/emptyprobe): the floor
#   record  pcmk-trace record -w FILE
#   nosock  pcmk-trace record -w FILE --no-socket: the floor's hook set exactly (the socket
#           transport's syscall tracepoints slow every syscall of every process a little)
# It prints medians, the cost per message above 'none' of 'record' against the floor,
# probe hits per message, and the highest aggregate rate with zero loss (1, 2, 4 clients).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
ROUNDS=${ROUNDS:-5}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench}
tmp=$(mktemp -d)
cleanup() {
	pkill -INT -f "$tmp/" 2>/dev/null || true
	scripts/testcluster down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -Wall -o "$tmp/cibload" bench/cibload.c -lqb
go build -o "$tmp/emptyprobe" ./bench/emptyprobe
go build -o "$tmp/pcmk-trace" ./cmd/pcmk-trace
scripts/testcluster up >/dev/null
init=$(scripts/testcluster pid)
lib=/proc/$init/root$(scripts/testcluster exec sh -c "grep -m1 -o '/[^ ]*libqb.so[^ ]*' /proc/\$(pidof pacemaker-based)/maps")

load() { # load CLIENTS -> prints the aggregate rate (ops/s)
	local k=$1 i pids=()
	for i in $(seq 1 "$k"); do
		scripts/testcluster exec "$tmp/cibload" -n "$N" >"$tmp/load.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$tmp"/load.* | sed -n 's/.*rate=\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s}'
	rm -f "$tmp"/load.*
}

start_probe() { # start_probe MODE: starts the probe process of a mode and waits until attached
	rm -f "$tmp/ready"
	case $1 in
	none) return 0 ;;
	empty) "$tmp/emptyprobe" -ready "$tmp/ready" "$lib" 2>"$tmp/probe.log" & ;;
	record) "$tmp/pcmk-trace" record -w "$tmp/bench.pcapng" --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
	nosock) "$tmp/pcmk-trace" record -w "$tmp/bench.pcapng" --no-socket --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
	esac
	probe=$!
	for _ in $(seq 1 200); do [[ -e $tmp/ready ]] && return 0; sleep 0.05; done
	cat "$tmp/probe.log" >&2
	exit 1
}

stop_probe() {
	[[ -n ${probe:-} ]] || return 0
	kill -INT "$probe"
	wait "$probe" || true
	probe=""
}

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A rates
probe=""
for r in $(seq 1 "$ROUNDS"); do
	for mode in none empty record nosock; do
		start_probe $mode
		rates[$mode]+="$(load 1) "
		stop_probe
		if [[ $mode == record ]]; then
			msgs=$(sed -n '1s/^\([0-9]*\) messages.*/\1/p' "$tmp/probe.log")
			lost=$(sed -n '1s/.*; \([0-9]*\) lost.*/\1/p' "$tmp/probe.log")
			hits=$(sed -n 's/.*probe hits: \([0-9]*\) qb_rb_chunk_commit (\([0-9]*\) on other rings).*/\1 \2/p' "$tmp/probe.log")
			# Hits of processes outside the sandbox (--ns-of) are not this load's.
			filtered=$(sed -n 's/.*; \([0-9]*\) messages filtered out.*/\1/p' "$tmp/probe.log")
			echo "$msgs $lost $hits ${filtered:-0}" >>"$tmp/record.stats"
		fi
	done
done

none=$(tr ' ' '\n' <<<"${rates[none]}" | grep . | median)
empty=$(tr ' ' '\n' <<<"${rates[empty]}" | grep . | median)
rec=$(tr ' ' '\n' <<<"${rates[record]}" | grep . | median)
nosock=$(tr ' ' '\n' <<<"${rates[nosock]}" | grep . | median)
read -r msgs lost hits other filtered < <(tail -1 "$tmp/record.stats")

# Highest aggregate rate with zero loss, recording, 1, 2 and 4 clients.
best=0 best_k=0 sweep=""
for k in 1 2 4; do
	start_probe record
	rate=$(load "$k")
	stop_probe
	l=$(sed -n '1s/.*; \([0-9]*\) lost.*/\1/p' "$tmp/probe.log")
	sweep+="$k:$rate/s,lost=$l "
	if [[ $l == 0 ]] && ((rate > best)); then best=$rate best_k=$k; fi
done

awk -v none="$none" -v empty="$empty" -v rec="$rec" -v nosock="$nosock" -v n="$N" -v rounds="$ROUNDS" \
	-v msgs="$msgs" -v hits="$hits" -v other="$other" -v filtered="$filtered" -v lost="$lost" \
	-v best="$best" -v bestk="$best_k" -v sweep="$sweep" 'BEGIN {
	# two messages (request, response) per operation
	c_empty = (1e6/empty - 1e6/none) / 2
	c_rec = (1e6/rec - 1e6/none) / 2
	c_nosock = (1e6/nosock - 1e6/none) / 2
	printf "record cost, %d synchronous cib_ro queries per run, median of %d interleaved rounds\n", n, rounds
	printf "  %-34s %10s %12s %16s\n", "mode", "ops/s", "us/op", "us/msg over none"
	printf "  %-34s %10.0f %12.1f %16s\n", "no probes", none, 1e6/none, "-"
	printf "  %-34s %10.0f %12.1f %16.2f\n", "empty uprobe (floor)", empty, 1e6/empty, c_empty
	printf "  %-34s %10.0f %12.1f %16.2f\n", "pcmk-trace record -w", rec, 1e6/rec, c_rec
	printf "  %-34s %10.0f %12.1f %16.2f\n", "pcmk-trace record -w --no-socket", nosock, 1e6/nosock, c_nosock
	printf "  cost ratio record/floor:          %.2f (target <= 1.15); without the socket tracepoints %.2f\n", c_rec / c_empty, c_nosock / c_empty
	printf "  probe hits per message:           %.3f (%d commit hits, %d on libqb log rings, %d of other processes, %d messages, %d lost)\n", (hits - other - filtered) / msgs, hits, other, filtered, msgs, lost
	printf "  highest rate with zero loss:      %d ops/s = %d messages/s (%d clients; sweep %s)\n", best, 2*best, bestk, sweep
}'

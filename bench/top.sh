#!/bin/bash
# top.sh: what pcmk-trace top costs in CPU against pcmk-trace record, side by side in one run.
#
# In a sandboxed cluster, CLIENTS copies of bench/cibload (libqb's own C client) run N
# synchronous cib_ro queries each (2 messages per query) while one of these watches, in
# interleaved rounds:
#   record   pcmk-trace record -w /dev/null
#   file     pcmk-trace record -w FILE (a file in /tmp, removed after each round): against
#            record, what writing through the page cache adds
#   top      pcmk-trace top --batch -f json >/dev/null (every interval decoded and analysed)
# It does so for two CIBs: the sandbox's own (about 1.6 KB: the replies are small), first at
# RATE messages a second (default 20,000, paced by cibload -r), then as fast as the clients
# go (tens of thousands a second); and the same with a 20 KiB property set added (replies
# of a modest real cluster's size; N/8 queries, as fast as they go). The watcher's CPU time (all threads, from
# schedstat, in ns) is read before and after the load; the script prints the medians of CPU
# per message and per second.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-40000}
CLIENTS=${CLIENTS:-2}
RATE=${RATE:-20000}
if ! [[ $RATE =~ ^[0-9]+$ && $RATE -gt 0 ]]; then
	echo "top.sh: RATE=$RATE: want a positive number of messages a second" >&2
	exit 2
fi
ROUNDS=${ROUNDS:-3}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench-top}
tmp=$(mktemp -d)
cleanup() {
	if [[ -n ${probe:-} ]]; then kill -INT "$probe" 2>/dev/null || true; fi
	scripts/testcluster down >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT

cc -O2 -Wall -o "$tmp/cibload" bench/cibload.c -lqb
go build -o "$tmp/pcmk-trace" ./cmd/pcmk-trace
scripts/testcluster up >/dev/null
init=$(scripts/testcluster pid)

cpu() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s+=$1} END {printf "%.6f\n", s / 1e9}'; }

load() { # runs the clients; prints the aggregate queries per second
	local i pids=()
	for i in $(seq 1 "$CLIENTS"); do
		scripts/testcluster exec "$tmp/cibload" -n "$n" ${pace:+-r "$pace"} >"$tmp/load.$i" &
		pids+=($!)
	done
	wait "${pids[@]}"
	cat "$tmp"/load.* | sed -n 's/.*rate=\([0-9]*\).*/\1/p' | awk '{s+=$1} END {print s}'
	rm -f "$tmp"/load.*
}

start_probe() {
	rm -f "$tmp/ready"
	case $1 in
	record) "$tmp/pcmk-trace" record -w /dev/null --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
	file) "$tmp/pcmk-trace" record -w "$tmp/capture.pcapng" --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
	top) "$tmp/pcmk-trace" top --batch -f json --ns-of "$init" --ready-file "$tmp/ready" >/dev/null 2>"$tmp/probe.log" & ;;
	esac
	probe=$!
	for _ in $(seq 1 200); do [[ -e $tmp/ready ]] && return 0; sleep 0.05; done
	cat "$tmp/probe.log" >&2
	exit 1
}

stop_probe() {
	kill -INT "$probe"
	wait "$probe" || true
	probe=""
	rm -f "$tmp/capture.pcapng"
}

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

# bigset KIB: a cluster_property_set of about KIB KiB, to make the CIB a real one's size.
bigset() {
	awk -v n=$(($1 * 1024)) 'BEGIN {
		s = "<cluster_property_set id=\"bench-top\">"
		for (i = 0; length(s) < n; i++)
			s = s sprintf("<nvpair id=\"bench-top-%d\" name=\"bench-top-%d\" value=\"value %d of a large set\"/>", i, i, i * 7919)
		print s "</cluster_property_set>"
	}'
}

# table TITLE: runs the rounds with n queries per client and prints their medians.
table() {
	local title=$1 mode rate cpus share label
	: >"$tmp/results"
	for _ in $(seq 1 "$ROUNDS"); do
		for mode in record file top; do
			sync # the previous round's file is written back now, not during this one
			start_probe $mode
			sleep 1 # let the watcher settle after attaching
			c0=$(cpu "$probe") t0=$(date +%s.%N)
			rate=$(load)
			c1=$(cpu "$probe") t1=$(date +%s.%N)
			stop_probe
			echo "$mode $rate $c0 $c1 $t0 $t1" >>"$tmp/results"
		done
	done
	msgs=$((2 * n * CLIENTS))
	printf "CPU of the watcher, %s: %d clients x %d synchronous cib_ro queries (%d messages), median of %d interleaved rounds\n" \
		"$title" "$CLIENTS" "$n" "$msgs" "$ROUNDS"
	printf "  %-40s %12s %12s %14s %12s\n" "watcher" "messages/s" "CPU s" "CPU us/msg" "CPU s/s"
	declare -A used
	for mode in record file top; do
		case $mode in
		record) label="pcmk-trace record -w /dev/null" ;;
		file) label="pcmk-trace record -w FILE" ;;
		top) label="pcmk-trace top --batch -f json" ;;
		esac
		rate=$(awk -v m=$mode '$1 == m {print 2 * $2}' "$tmp/results" | median)
		cpus=$(awk -v m=$mode '$1 == m {print $4 - $3}' "$tmp/results" | median)
		share=$(awk -v m=$mode '$1 == m {print ($4 - $3) / ($6 - $5)}' "$tmp/results" | median)
		printf "  %-40s %12.0f %12.3f %14.2f %12.3f\n" "$label" "$rate" "$cpus" "$(awk -v c="$cpus" -v n="$msgs" 'BEGIN {print c / n * 1e6}')" "$share"
		used[$mode]=$cpus
	done
	awk -v r="${used[record]}" -v f="${used[file]}" -v t="${used[top]}" 'BEGIN {
		printf "  CPU ratio top/record: %.2f against record -w FILE, %.2f against -w /dev/null (target <= 1)\n", t / f, t / r }'
	awk -v r="${used[record]}" -v f="${used[file]}" -v n="$msgs" 'BEGIN {printf "  CPU ratio record -w FILE / -w /dev/null: %.2f (the page cache: %+.2f us/msg)\n", f / r, (f - r) / n * 1e6}'
}

probe="" pace=""
echo "machine: $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) CPUs, kernel $(uname -r)"
n=$N
# each client's queries a second: two messages a query
pace=$(awk -v r="$RATE" -v c="$CLIENTS" 'BEGIN {print r / 2 / c}')
table "the sandbox's CIB at $RATE messages/s"
echo
pace=""
table "the sandbox's CIB, as fast as the clients go"
echo
# (a set left by an interrupted run in a cluster still up is replaced)
scripts/testcluster exec cibadmin --delete -o crm_config -X '<cluster_property_set id="bench-top"/>' >/dev/null 2>&1 || true
bigset 20 | scripts/testcluster exec cibadmin --create -o crm_config --xml-pipe
n=$((N / 8))
table "the CIB with a 20 KiB property set"

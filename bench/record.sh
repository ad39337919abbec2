#!/bin/bash
# record.sh: what recording costs a real request load, side by side in one run.
#
# In a sandboxed 2.1.5 cluster, bench/cibload (libqb's own C client) runs N synchronous
# cib_ro queries (2 messages each) in these modes, interleaved over ROUNDS rounds:
#   none          no probes
#   entry         every hook record attaches, with empty programs, but every uprobe on its
#                 function's first instruction (emptyprobe -entry), where uprobes usually go:
#                 the kernel single-steps that instruction, a second exception per hit
#   floor         every hook record attaches, where record attaches it, with empty programs
#                 (bench/emptyprobe)
#   record        pcmk-trace record -w FILE
#   floor-nosock  the same two without the socket transport's syscall tracepoints, which
#   record-nosock slow every syscall of every process a little (record --no-socket)
# It prints medians, the cost per message above 'none' of 'record' against its floor,
# probe hits per message, our own work per message (the probe's kernel run time over the empty
# program's, plus the reader's CPU), and the highest aggregate rate with zero loss (1, 2, 4 clients).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-20000}
ROUNDS=${ROUNDS:-5}
export TESTCLUSTER_NAME=${TESTCLUSTER_NAME:-bench}
tmp=$(mktemp -d)
cleanup() {
	[[ -n ${stats_was:-} ]] && sysctl -qw kernel.bpf_stats_enabled="$stats_was"
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
	entry) "$tmp/emptyprobe" -entry -ready "$tmp/ready" 2>"$tmp/probe.log" & ;;
	floor) "$tmp/emptyprobe" -ready "$tmp/ready" 2>"$tmp/probe.log" & ;;
	record) "$tmp/pcmk-trace" record -w "$tmp/bench.pcapng" --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
	floor-nosock) "$tmp/emptyprobe" -no-socket -ready "$tmp/ready" 2>"$tmp/probe.log" & ;;
	record-nosock) "$tmp/pcmk-trace" record -w "$tmp/bench.pcapng" --no-socket --ns-of "$init" --ready-file "$tmp/ready" 2>"$tmp/probe.log" & ;;
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

# The kernel times each BPF program run while kernel.bpf_stats_enabled is 1: the probes' own
# work, apart from the cost of the hooks. Restored at exit.
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
# prog_ns PID NAME-REGEX: run time (ns) and runs of the process's BPF programs so named.
# The process's programs are those its file descriptors hold (fdinfo's prog_id).
prog_ns() {
	local id
	sed -n 's/^prog_id:\s*//p' /proc/"$1"/fdinfo/* 2>/dev/null | sort -u | while read -r id; do
		bpftool prog show id "$id" -j
	done | jq -rs --arg re "$2" \
		'[.[] | select(.name | test($re))] | "\(map(.run_time_ns // 0) | add // 0) \(map(.run_cnt // 0) | add // 0)"'
}

# cpu_ns PID: CPU time of all the process's threads so far, in nanoseconds (schedstat).
cpu_ns() { cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{s+=$1} END {print s+0}'; }

median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A rates
probe="" reader="" readerpm="" progpm="" emptypr=""
for _ in $(seq 1 "$ROUNDS"); do
	for mode in none entry floor record floor-nosock record-nosock; do
		sync # the previous round's file is written back now, not during this one
		start_probe $mode
		c0=0
		[[ -n ${probe:-} ]] && c0=$(cpu_ns "$probe")
		rates[$mode]+="$(load 1) "
		c1=0
		[[ -n ${probe:-} ]] && c1=$(cpu_ns "$probe")
		if [[ $mode == record ]]; then
			read -r commit_ns commit_runs < <(prog_ns "$probe" '^rb_commit$')
			read -r sock_ns _ < <(prog_ns "$probe" '^sys_')
		fi
		if [[ $mode == floor-nosock ]]; then
			read -r empty_ns empty_runs < <(prog_ns "$probe" '^rb_commit$')
			emptypr+="$(awk -v c="$empty_ns" -v r="$empty_runs" 'BEGIN {printf "%.0f", r ? c / r : 0}') "
		fi
		stop_probe
		if [[ $mode == record ]]; then
			reader+="$((c1 - c0)) "
			msgs=$(sed -n '1s/^\([0-9]*\) messages.*/\1/p' "$tmp/probe.log")
			lost=$(sed -n '1s/.*; \([0-9]*\) lost.*/\1/p' "$tmp/probe.log")
			hits=$(sed -n 's/.*probe hits: \([0-9]*\) qb_rb_chunk_commit (\([0-9]*\) on other rings).*/\1 \2/p' "$tmp/probe.log")
			# Hits of processes outside the sandbox (--ns-of) are not this load's.
			filtered=$(sed -n 's/.*; \([0-9]*\) messages filtered out.*/\1/p' "$tmp/probe.log")
			echo "$msgs $lost $hits ${filtered:-0}" >>"$tmp/record.stats"
			progpm+="$(awk -v c="$commit_ns" -v r="$commit_runs" -v s="$sock_ns" -v m="$msgs" 'BEGIN {printf "%.0f/%.0f", c / r, s / m}') "
			readerpm+="$(awk -v c=$((c1 - c0)) -v m="$msgs" 'BEGIN {printf "%.1f", c / m}') "
		fi
	done
done

med() { tr ' ' '\n' <<<"${rates[$1]}" | grep . | median; }
commitrun=$(tr ' ' '\n' <<<"$progpm" | grep . | cut -d/ -f1 | median)
sockpm=$(tr ' ' '\n' <<<"$progpm" | grep . | cut -d/ -f2 | median)
rdr=$(tr ' ' '\n' <<<"$readerpm" | grep . | median)
emptyrun=$(tr ' ' '\n' <<<"$emptypr" | grep . | median)
none=$(med none) entry=$(med entry) floor=$(med floor) rec=$(med record) floorns=$(med floor-nosock) recns=$(med record-nosock)
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

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
echo "machine: $cpu, $(nproc) CPUs, kernel $(uname -r)"
awk -v commitrun="$commitrun" -v emptyrun="$emptyrun" -v sockpm="$sockpm" -v rdr="$rdr" -v none="$none" -v entry="$entry" -v floor="$floor" -v rec="$rec" -v floorns="$floorns" -v recns="$recns" -v n="$N" -v rounds="$ROUNDS" \
	-v msgs="$msgs" -v hits="$hits" -v other="$other" -v filtered="$filtered" -v lost="$lost" \
	-v best="$best" -v bestk="$best_k" -v sweep="$sweep" 'BEGIN {
	# two messages (request, response) per operation; cost = time per message above none
	c_entry = (1e6/entry - 1e6/none) / 2
	c_floor = (1e6/floor - 1e6/none) / 2
	c_rec = (1e6/rec - 1e6/none) / 2
	c_floorns = (1e6/floorns - 1e6/none) / 2
	c_recns = (1e6/recns - 1e6/none) / 2
	printf "record cost, %d synchronous cib_ro queries per run, median of %d interleaved rounds\n", n, rounds
	printf "  %-44s %10s %10s %16s\n", "mode", "ops/s", "us/op", "us/msg over none"
	printf "  %-44s %10.0f %10.1f %16s\n", "no probes", none, 1e6/none, "-"
	printf "  %-44s %10.0f %10.1f %16.2f\n", "empty programs, uprobes at function entries", entry, 1e6/entry, c_entry
	printf "  %-44s %10.0f %10.1f %16.2f\n", "floor: record'"'"'s hooks, empty programs", floor, 1e6/floor, c_floor
	printf "  %-44s %10.0f %10.1f %16.2f\n", "pcmk-trace record -w", rec, 1e6/rec, c_rec
	printf "  %-44s %10.0f %10.1f %16.2f\n", "floor, --no-socket hooks", floorns, 1e6/floorns, c_floorns
	printf "  %-44s %10.0f %10.1f %16.2f\n", "pcmk-trace record -w --no-socket", recns, 1e6/recns, c_recns
	# A cost within the noise of the load (about a microsecond a message here) makes a ratio meaningless.
	if (c_floor >= 1 && c_floorns >= 1)
		printf "  cost ratio record/floor:          %.2f (target <= 1.15); --no-socket %.2f\n", c_rec / c_floor, c_recns / c_floorns
	else
		printf "  cost ratio record/floor:          not measurable: the floor, %.2f us/msg (--no-socket %.2f), is within this load'"'"'s noise\n", c_floor, c_floorns
	printf "  probes on emulated instructions:  record costs %.2f us/msg over no probes; empty uprobes at the function entries (single-stepped) %.2f\n", c_rec, c_entry
	# Our own work: what the traced processes wait for above one empty uprobe hit per message
	# (so the socket tracepoints count as ours), plus the reader'"'"'s CPU on the other core.
	# In line, the kernel'"'"'s own count is steadier than the latency: the probe'"'"'s run time over
	# the empty program'"'"'s, plus the socket programs'"'"' per message.
	probe = (commitrun - emptyrun + sockpm) / 1000
	printf "  our own work per message:         %.2f us = %.2f probe run time over the empty program'"'"'s (bpf_stats) + %.2f reader CPU (target <= 1.5)\n", probe + rdr/1000, probe, rdr/1000
	if (c_rec - c_floorns > 0)
		printf "                                    (in line as latency: record over the --no-socket floor, %.2f us)\n", c_rec - c_floorns
	else
		printf "                                    (in line as latency: record over the --no-socket floor, %.2f us: within this load'"'"'s noise)\n", c_rec - c_floorns
	printf "  BPF run time (kernel bpf_stats):  %d ns per qb_rb_chunk_commit probe run (empty program: %d); %d ns per message in the socket programs\n", commitrun, emptyrun, sockpm
	printf "  probe hits per message:           %.3f (%d commit hits, %d on libqb log rings, %d of other processes, %d messages, %d lost)\n", (hits - other - filtered) / msgs, hits, other, filtered, msgs, lost
	printf "  highest rate with zero loss:      %d ops/s = %d messages/s (%d clients; sweep %s)\n", best, 2*best, bestk, sweep
}'

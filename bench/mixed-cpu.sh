#!/usr/bin/env bash
# Server CPU per read answer while a writer commits: how much the
# answers' per-item memos (retired by every commit) cost or save when
# the store is written to all the time. Serves a copy of STORE with
# BUILD's xselld, runs a writer (RATE event batches of 10 orders a
# second, each its own commit) beside one closed-loop reader of OP for
# DURATION seconds, and prints xselld's CPU time (perf stat task-clock,
# every thread: the writes and the complements refresher included) over
# the read answers given. Run it for two builds, interleaved, on the
# same store:
#
#   bench/mixed-cpu.sh BUILD STORE [OP] [RATE] [DURATION]
#   bench/mixed-cpu.sh build /tmp/or fbt 20 4
set -euo pipefail
build=${1:?usage: mixed-cpu.sh BUILD STORE [OP] [RATE] [DURATION]}
store=${2:?usage: mixed-cpu.sh BUILD STORE [OP] [RATE] [DURATION]}
op=${3:-fbt}
rate=${4:-20}
duration=${5:-4}
work=$(mktemp -d /tmp/xsell-mixed.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
cp -r "$store" "$work/db"
"$build/xselld" --db "$work/db" --listen "ipc://$work/r.sock" \
	--admin "ipc://$work/a.sock" --quiet &
server=$!
pids+=("$server")
sleep 0.5
if [ "$rate" != 0 ]; then
	"$build/bench/xsell-bench" --url "ipc://$work/r.sock" \
		--admin-url "ipc://$work/a.sock" --db "$store" --mix event=1 \
		--event-batch 10 --rate "$rate" --duration "$duration" \
		--warmup 0 >"$work/writer.out" 2>&1 &
	pids+=("$!")
fi
perf stat -e task-clock -p "$server" -o "$work/perf.txt" &
perf=$!
n=$("$build/bench/xsell-bench" --url "ipc://$work/r.sock" --db "$store" \
	--mix "$op=1" --clients 1 --duration "$duration" --warmup 0 |
	awk -v op="$op" '$1 == op {print $2}')
kill -INT "$perf"
wait "$perf" || true
ms=$(awk '/task-clock/ {gsub(",", "", $1); print $1}' "$work/perf.txt")
awk -v op="$op" -v n="$n" -v ms="$ms" 'BEGIN {
	printf "%s: %d answers, xselld CPU %.1f ms, %.1f us per answer\n",
	    op, n, ms, ms * 1000 / n }'

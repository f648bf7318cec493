#!/usr/bin/env bash
# A reader's answers while a writer commits: how much the answers'
# per-item memos (retired by the commits that change what they were
# made from) cost or save when the store is written to all the time.
# Serves a copy of STORE with BUILD's xselld, runs a writer (RATE event
# requests a second of 10 orders, or of 10 views with WRITE=view, each
# its own commit) beside one closed-loop reader of OP for DURATION
# seconds, and prints the reader's latencies and xselld's CPU time
# (perf stat task-clock, every thread: the writes and the complements
# refresher included) over the read answers given. The reader runs
# alone for WARM seconds first (default 0), so that what the memos
# hold is the steady state's. BENCH names the xsell-bench to drive
# the server with (default BUILD's; an older build's server can be
# driven by a newer bench). Run it for two builds, interleaved, on the
# same store:
#
#   bench/mixed-cpu.sh BUILD STORE [OP] [RATE] [DURATION]
#   bench/mixed-cpu.sh build /tmp/or fbt 20 4
#   WRITE=view WARM=4 bench/mixed-cpu.sh build /tmp/or fbt_cart 20 6
set -euo pipefail
usage="usage: [WRITE=event|view] [WARM=S] [BENCH=PATH] mixed-cpu.sh"
usage="$usage BUILD STORE [OP] [RATE] [DURATION]"
build=${1:?$usage}
store=${2:?$usage}
op=${3:-fbt}
rate=${4:-20}
duration=${5:-4}
write=${WRITE:-event}
warm=${WARM:-0}
bench=${BENCH:-$build/bench/xsell-bench}
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
if [ "$warm" != 0 ]; then
	"$bench" --url "ipc://$work/r.sock" --db "$store" --mix "$op=1" \
		--clients 1 --duration "$warm" --warmup 0 >/dev/null
fi
if [ "$rate" != 0 ]; then
	"$bench" --url "ipc://$work/r.sock" --admin-url "ipc://$work/a.sock" \
		--db "$store" --mix "$write=1" --event-batch 10 --rate "$rate" \
		--duration "$duration" --warmup 0 >"$work/writer.out" 2>&1 &
	pids+=("$!")
fi
perf stat -e task-clock -p "$server" -o "$work/perf.txt" &
perf=$!
"$bench" --url "ipc://$work/r.sock" --db "$store" --mix "$op=1" \
	--clients 1 --duration "$duration" --warmup 0 >"$work/reader.out"
kill -INT "$perf"
wait "$perf" || true
n=$(awk -v op="$op" '$1 == op {print $2}' "$work/reader.out")
ms=$(awk '/task-clock/ {gsub(",", "", $1); print $1}' "$work/perf.txt")
sed -n 2,3p "$work/reader.out"
awk -v op="$op" -v n="$n" -v ms="$ms" 'BEGIN {
	printf "%s: %d answers, xselld CPU %.1f ms, %.1f us per answer\n",
	    op, n, ms, ms * 1000 / n }'

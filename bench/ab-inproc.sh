#!/usr/bin/env bash
# Two builds' model calls timed in process at the same time, one on each
# core, the cores swapped every round: on a shared VM whose speed moves
# by a third between one minute and the next, two builds timed one after
# the other differ by more than most changes do; timed side by side they
# meet the same host, and a core's own drift is read off by comparing
# rounds on the same core.
#
#   bench/ab-inproc.sh BUILD_A BUILD_B DB [xsell-bench options...]
#   bench/ab-inproc.sh /tmp/base /tmp/new /var/lib/xsell --mix fbt_cart=1
#
# Each BUILD is a build directory (its bench/xsell-bench is run); DB a
# store both may read (read-only, in process). The options go to both
# (default --mix fbt_cart=1); every round uses its own --seed, the same
# for both builds. Prints, per round, each build's core and its thread-CPU
# p50, p90, p99 and mean in microseconds. Environment: ROUNDS (default
# 6), DURATION (seconds a round, default 3), CORES (two core numbers,
# default "0 1"). Needs taskset (util-linux).
set -euo pipefail

if [ $# -lt 3 ]; then
	sed -n '2,/^set -/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
fi
a=$1 b=$2 db=$3
shift 3
opts=("$@")
if [ ${#opts[@]} -eq 0 ]; then
	opts=(--mix fbt_cart=1)
fi
read -r core0 core1 <<<"${CORES:-0 1}"
for build in "$a" "$b"; do
	if [ ! -x "$build/bench/xsell-bench" ]; then
		echo "ab-inproc: no $build/bench/xsell-bench" >&2
		exit 2
	fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# One build's round on one core: "core C p50 .. p90 .. p99 .. mean ..".
one() {
	local build=$1 core=$2 seed=$3

	taskset -c "$core" "$build/bench/xsell-bench" --inproc --cpu-time \
		--db "$db" "${opts[@]}" --duration "${DURATION:-3}" \
		--warmup 1 --seed "$seed" |
		awk -v c="$core" '/^all /{
			printf "core %s p50 %s p90 %s p99 %s mean %s", c, $4, $5, $6, $8
		}'
}

echo "round | A: $a | B: $b"
for round in $(seq "${ROUNDS:-6}"); do
	if [ $((round % 2)) -eq 1 ]; then
		ca=$core0 cb=$core1
	else
		ca=$core1 cb=$core0
	fi
	one "$a" "$ca" "$round" >"$work/a" &
	one "$b" "$cb" "$round" >"$work/b"
	wait
	echo "$round | $(cat "$work/a") | $(cat "$work/b")"
done

#!/usr/bin/env bash
# The Redis baseline, if Debian's redis-server is installed: the basket
# pairs of an Online Retail export built with pipelined ZINCRBY (one
# sorted set per item, member = the other item, score = co-count; the
# command stream is written first by bench/redis_pairs.py and not
# timed), then "frequently bought with" as ZREVRANGE p:ITEM 0 9
# WITHSCORES with redis-benchmark, over a unix socket, at each client
# count given; all of it REPEAT times, from an empty server each time.
# Prints JSON lines: {"load": {...}} then one {"query": {...}} per
# client count, for each repeat.
#
#   bench/redis.sh FILE.csv "1 8" SECONDS REPEAT
set -euo pipefail
csv=$1
clients_list=${2:-1 8}
seconds=${3:-5}
repeat=${4:-1}
here=$(cd "$(dirname "$0")" && pwd)
if ! command -v redis-server >/dev/null ||
	! command -v redis-benchmark >/dev/null; then
	echo "redis.sh: redis-server is not installed" >&2
	exit 77
fi
work=$(mktemp -d /tmp/xsell-redis.XXXXXX)
pid=""
cleanup() {
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

read -r commands items < <(python3 "$here/redis_pairs.py" "$csv" \
	"$work/pairs.resp")
sock="$work/redis.sock"
redis-server --port 0 --unixsocket "$sock" --save '' --appendonly no \
	--dir "$work" --logfile "$work/log" &
pid=$!
for _ in $(seq 50); do
	redis-cli -s "$sock" ping >/dev/null 2>&1 && break
	sleep 0.1
done
for _ in $(seq "$repeat"); do
	redis-cli -s "$sock" flushall >/dev/null
	t0=$(date +%s.%N)
	redis-cli -s "$sock" --pipe <"$work/pairs.resp" >"$work/pipe.txt"
	t1=$(date +%s.%N)
	mem=$(redis-cli -s "$sock" info memory |
		awk -F: '/^used_memory:/ {print $2}' | tr -d '\r')
	awk -v t0="$t0" -v t1="$t1" -v c="$commands" -v m="$mem" 'BEGIN {
		printf "{\"load\":{\"seconds\":%.3f,\"commands\":%d,\"used_memory\":%d}}\n",
		    t1 - t0, c, m }'

	# Requests for about 'seconds' at the rate of a short first run.
	for c in $clients_list; do
		n=$(redis-benchmark -s "$sock" -c "$c" -n 20000 -r "$items" --csv \
			ZREVRANGE 'p:__rand_int__' 0 9 WITHSCORES |
			awk -F'"' 'NR == 2 {printf "%d", $4}')
		# seconds may be a fraction (run.sh's DURATION=0.5)
		n=$(awk -v n="$n" -v s="$seconds" 'BEGIN {
			n = int(n * s); print (n > 0 ? n : 1) }')
		redis-benchmark -s "$sock" -c "$c" -n "$n" -r "$items" --csv \
			ZREVRANGE 'p:__rand_int__' 0 9 WITHSCORES |
			awk -F'"' -v c="$c" 'NR == 2 {
			printf "{\"query\":{\"clients\":%d,\"rps\":%s,\"mean_us\":%.1f,", c, $4, $6 * 1000
			printf "\"p50_us\":%.1f,\"p99_us\":%.1f,\"max_us\":%.1f}}\n", $10 * 1000, $14 * 1000, $16 * 1000 }'
	done
done

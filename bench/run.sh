#!/usr/bin/env bash
# Performance, side by side, in one run on one machine: build, load all of
# Online Retail with xsell-load (timed), start xselld on ipc://, and set
# it against xsell-echo (the bare nng REP floor, replies padded to
# xselld's mean reply size) at 1 and 8 clients, op by op, closed loop
# and open loop (fixed rates, the same for both), and one client asking
# both the same requests in turn (xsell-bench --pair-url); time the model
# in process; time event ingestion; read each xselld's peak and final
# memory from /proc as it stops. Every measurement runs REPEAT times
# (interleaved, so drift hits both sides alike) and the median is kept.
# bench/pg-load.sh times PostgreSQL computing the same pair counts (COPY,
# self-join GROUP BY) and bench/redis.sh times Redis building them with
# pipelined ZINCRBY and answering ZREVRANGE top-k, each on private
# sockets; both are Debian packages that `tools/deps.sh --bench`
# installs first where they are missing (a baseline that still is not
# there is skipped, with a line saying so). The ops are fbt, fbt_cart,
# complements and picks (for_you, users of 1..200 history events).
# Writes bench/RESULTS.md (or $OUT) and keeps the raw JSON lines beside
# the scratch store in $WORK.
#
#   bench/run.sh                      # defaults: DURATION=5 REPEAT=3
#   DURATION=2 REPEAT=1 bench/run.sh  # a quick look
#
# Environment: BUILD (build dir, default build), XSELL_DATA_DIR (default
# ../shared/data), DURATION (seconds measured per run), WARMUP,
# REPEAT, CLIENTS (default "1 8"), EVENT_WRITERS (the writers of the
# event runs at default flags, default "1 8 64"), OPEN_LOADS (the open-loop rates, as
# fractions of echo's closed-loop req/s with the last of CLIENTS; default
# "0.25 0.5"; empty: no open loop), OPEN_CLIENTS (default 8), OUT,
# KEEP=1 keeps $WORK.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

build=${BUILD:-build}
data_dir=${XSELL_DATA_DIR:-$root/../shared/data}
# A git worktree sits one level deeper than the main checkout.
if [ -z "${XSELL_DATA_DIR:-}" ] && [ ! -d "$data_dir" ]; then
	data_dir=$root/../../shared/data
fi
csv="$data_dir/online-retail/online_retail.csv"
duration=${DURATION:-5}
warmup=${WARMUP:-1}
repeat=${REPEAT:-3}
clients_list=${CLIENTS:-1 8}
event_writers=${EVENT_WRITERS:-1 8 64}
out=${OUT:-bench/RESULTS.md}
ops="fbt fbt_cart complements picks"
read -ra open_loads <<<"${OPEN_LOADS:-0.25 0.5}"
open_clients=${OPEN_CLIENTS:-8}

if [ ! -r "$csv" ]; then
	echo "run.sh: $csv not found (set XSELL_DATA_DIR)" >&2
	exit 1
fi
# The baselines and /usr/bin/time, where the machine lacks them (Debian
# packages); without a registry a missing baseline is skipped below.
tools/deps.sh --bench ||
	echo "${0##*/}: could not install every package (tools/deps.sh --bench)" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 >/dev/null

work=$(mktemp -d /tmp/xsell-bench.XXXXXX)
raw="$work/raw.jsonl"
read_url="ipc://$work/read.sock"
admin_url="ipc://$work/admin.sock"
echo_url="ipc://$work/echo.sock"
server_pid=""
pair_pid=""
# The echo started beside xselld for a paired run.
stop_pair() {
	if [ -n "$pair_pid" ]; then
		kill "$pair_pid" 2>/dev/null || true
		wait "$pair_pid" 2>/dev/null || true
		pair_pid=""
	fi
}
stop_server() {
	if [ -n "$server_pid" ]; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=""
	fi
}
cleanup() {
	stop_pair
	stop_server
	if [ "${KEEP:-0}" = 1 ]; then
		echo "run.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT

# xsell-bench refuses an option given twice: the runs that warm up for
# another time than $warmup start from bench_nowarm, which has none.
bench_nowarm=("$build/bench/xsell-bench" --duration "$duration" --json)
bench=("${bench_nowarm[@]}" --warmup "$warmup")
# Wait until a REP server at $1 answers.
wait_up() {
	for _ in $(seq 100); do
		if "$build/bench/xsell-bench" --url "$1" --items "$work/one.txt" \
			--requests 1 --warmup 0 --timeout-ms 200 --json \
			2>/dev/null | grep -q '"failures":0'; then
			return 0
		fi
		sleep 0.1
	done
	echo "run.sh: no server at $1" >&2
	exit 1
}
# The running server's memory, from /proc/PID/status: its peak resident
# set (VmHWM) and, now, its anonymous memory and the pages of files it
# maps (the store) that are resident, in KB, as one JSON object.
server_mem() {
	awk '/^VmHWM:/ {h = $2} /^RssAnon:/ {a = $2} /^RssFile:/ {f = $2}
		END {printf "{\"hwm_kb\":%d,\"anon_kb\":%d,\"file_kb\":%d}",
			h, a, f}' "/proc/$server_pid/status"
}
# Append one JSON result, tagged, to the raw file.
record() { # tag json
	printf '{"tag":"%s","r":%s}\n' "$1" "$2" >>"$raw"
}
# The open-loop runs of $op against the server at $2 (tagged $1), one a
# load of open_loads at its rate in open_rates: $open_clients clients,
# each on a fixed schedule, so a server slower than the rate shows its
# queue in the latency.
open_loop() { # server url
	local i
	for i in "${!open_rates[@]}"; do
		record "$1_open $op ${open_loads[$i]}" "$("${bench[@]}" \
			--url "$2" --db "$work/db" --mix "$op=1" \
			--clients "$open_clients" --rate "${open_rates[$i]}")"
	done
}

lines=$(($(wc -l <"$csv") - 1))
echo "== loading $csv ($lines lines), $repeat times"
for i in $(seq "$repeat"); do
	rm -rf "$work/db"
	/usr/bin/time -f '%e %M' -o "$work/time.txt" \
		"$build/tools/xsell-load" --db "$work/db" --quiet "$csv" \
		>"$work/load.txt" 2>"$work/load.err"
	read -r secs kb <"$work/time.txt"
	record load "{\"seconds\":$secs,\"max_rss_kb\":$kb,\"lines\":$lines}"
	echo "   $secs s, peak RSS $kb KB ($(wc -l <"$work/load.err") lines" \
		"rejected)"
done
du -sk "$work/db" | awk '{print $1}' >"$work/db_kb.txt"
mdb_stat -s pair "$work/db" | awk '/Entries:/ {print $2}' >"$work/pairs.txt"
# The same data grown by write transactions (--incremental: chunks of
# --txn-ms, as live writes and loads into a store with data grow it)
# leaves pages LMDB freed in its file; its compacted copy holds none.
echo "== storage of a store grown by write transactions (--incremental)"
rm -rf "$work/inc" "$work/inc.compact"
"$build/tools/xsell-load" --db "$work/inc" --quiet --incremental \
	--compact-into "$work/inc.compact" "$csv" >"$work/inc.txt" 2>/dev/null
record storage_incremental "$(awk '
	/^store / {u = $2; f = $6}
	/^compacted copy / {c = $4}
	END {printf "{\"used_bytes\":%d,\"free_bytes\":%d,\"compact_bytes\":%d}",
		u, f, c}' "$work/inc.txt")"
grep -E '^(store|compacted copy) ' "$work/inc.txt" | sed 's/^/   /'
rm -rf "$work/inc" "$work/inc.compact"
# complements answers from precomputed lists where they are fresh (an
# hour; README "Scorers"), as a running xselld's refresher keeps them:
# compute them once, outside the timed loads and the store's size.
head -1 "$csv" >"$work/header.csv"
"$build/tools/xsell-load" --db "$work/db" --quiet --complements \
	"$work/header.csv" | grep '^complements'

# PostgreSQL computing the same pair counts, if it is installed.
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
	echo "== PostgreSQL: COPY + self-join GROUP BY, $repeat times"
	for i in $(seq "$repeat"); do
		r=$(bench/pg-load.sh "$csv")
		record pg_load "$r"
		echo "   $r"
	done
else
	echo "== PostgreSQL not installed: no baseline for the load"
fi
echo 22697 >"$work/one.txt"

echo "== in process (model calls only)"
for i in $(seq "$repeat"); do
	for op in $ops; do
		record "inproc $op" "$("${bench[@]}" --inproc --cpu-time \
			--db "$work/db" --mix "$op=1" --label "inproc $op")"
	done
	# What a user asked once costs: for_you keeping nothing.
	record "inproc picks_unkept" "$("${bench[@]}" --inproc --cpu-time \
		--db "$work/db" --mix picks=1 --picks-unkept \
		--label "inproc picks_unkept")"
done

"$build/xselld" --db "$work/db" --listen "$read_url" \
	--admin "$admin_url" --quiet &
server_pid=$!
wait_up "$read_url"
echo "== xselld: mean reply sizes"
declare -A reply_bytes
for op in $ops; do
	reply_bytes[$op]=$("$build/bench/xsell-bench" --json \
		--url "$read_url" --db "$work/db" \
		--mix "$op=1" --duration 1 --warmup 0 |
		sed 's/.*"reply_bytes_mean":\([0-9]*\).*/\1/')
	echo "   $op: ${reply_bytes[$op]} bytes"
done
stop_server

# One server at a time, so the two never share the 2 cores.
for i in $(seq "$repeat"); do
	for op in $ops; do
		echo "== round $i, $op: echo"
		"$build/bench/xsell-echo" --listen "$echo_url" \
			--reply-bytes "${reply_bytes[$op]}" &
		server_pid=$!
		wait_up "$echo_url"
		for c in $clients_list; do
			r=$("${bench[@]}" --url "$echo_url" --db "$work/db" \
				--mix "$op=1" --clients "$c" --server-pid "$server_pid")
			record "echo $op $c" "$r"
		done
		# Open loop: both servers are offered the same rates, fractions
		# of what echo just served closed loop with the last of CLIENTS.
		echo_rps=$(echo "$r" |
			sed 's/.*"all":{"requests":[0-9]*,"rps":\([0-9.]*\).*/\1/')
		open_rates=()
		for load in "${open_loads[@]}"; do
			open_rates+=("$(awk -v r="$echo_rps" -v l="$load" \
				'BEGIN {printf "%d", r * l}')")
		done
		open_loop echo "$echo_url"
		stop_server
		echo "== round $i, $op: xselld"
		"$build/xselld" --db "$work/db" --listen "$read_url" \
			--admin "$admin_url" --quiet &
		server_pid=$!
		wait_up "$read_url"
		for c in $clients_list; do
			record "xselld $op $c" "$("${bench[@]}" --url "$read_url" \
				--db "$work/db" --mix "$op=1" --clients "$c" \
				--server-pid "$server_pid")"
		done
		if [ "$op" = fbt ]; then
			# Items drawn uniformly, as redis-benchmark draws keys.
			for c in $clients_list; do
				record "xselld fbt_uniform $c" "$("${bench[@]}" \
					--url "$read_url" --db "$work/db" --uniform \
					--mix fbt=1 --clients "$c")"
			done
		fi
		# Paired, one client: each request goes to xselld and to an
		# echo started beside it, the two in turn first (xsell-bench
		# --pair-url), so that both meet the same moments of the
		# machine; the runs above met different minutes of it.
		"$build/bench/xsell-echo" --listen "$echo_url" \
			--reply-bytes "${reply_bytes[$op]}" &
		pair_pid=$!
		wait_up "$echo_url"
		record "paired $op 1" "$("${bench[@]}" --url "$read_url" \
			--pair-url "$echo_url" --db "$work/db" --mix "$op=1" \
			--clients 1 --server-pid "$server_pid")"
		stop_pair
		open_loop xselld "$read_url"
		record "xselld_mem $op" "$(server_mem)"
		stop_server
	done
done

echo "== event ingestion: batches of 1000 orders of 3 items, durable"
# One writer, then 8 and 64 (EVENT_WRITERS): the admin endpoint's 64
# workers serve them at once, so their writes share group commits. Bytes
# written per event: xselld's wchar (/proc/PID/io) over the run, divided
# by the events acknowledged (no warmup, so every write is counted; the
# last batches in flight make it an upper bound by a few %).
"$build/xselld" --db "$work/db" --listen "$read_url" --admin "$admin_url" \
	--quiet &
server_pid=$!
wait_up "$read_url"
wchar() { awk '/^wchar:/ {print $2}' "/proc/$server_pid/io"; }
for i in $(seq "$repeat"); do
	for c in $event_writers; do
		w0=$(wchar)
		r=$("${bench_nowarm[@]}" --url "$read_url" \
			--admin-url "$admin_url" \
			--db "$work/db" --mix event=1 --event-batch 1000 \
			--clients "$c" --warmup 0)
		w1=$(wchar)
		record "event $c" "$r"
		n=$(echo "$r" | sed 's/.*"all":{"requests":\([0-9]*\).*/\1/')
		record "event_io $c" "{\"wchar\":$((w1 - w0)),\"events\":$((n * 1000))}"
	done
done
record "xselld_mem event" "$(server_mem)"
stop_server

echo "== event ingestion through the write-ahead log (xselld --wal)"
# Acknowledged once logged and synced, applied to the store in the
# background (bounded backlog). A stop applies what is left: its time is
# recorded, so events / (duration + drain) is the sustained rate. One
# server per run, so that no run starts behind the last one's backlog.
for i in $(seq "$repeat"); do
	for c in $clients_list; do
		"$build/xselld" --db "$work/db" --listen "$read_url" \
			--admin "$admin_url" --quiet --wal &
		server_pid=$!
		wait_up "$read_url"
		w0=$(wchar)
		r=$("${bench_nowarm[@]}" --url "$read_url" \
			--admin-url "$admin_url" \
			--db "$work/db" --mix event=1 --event-batch 1000 \
			--clients "$c" --warmup 0)
		w1=$(wchar)
		t0=$(date +%s%N)
		stop_server
		t1=$(date +%s%N)
		record "event_wal $c" "$r"
		n=$(echo "$r" | sed 's/.*"all":{"requests":\([0-9]*\).*/\1/')
		record "event_wal_io $c" "{\"wchar\":$((w1 - w0)),\"events\":$((n * 1000)),\"drain_ms\":$(((t1 - t0) / 1000000))}"
	done
done

# Redis doing the same job, if it is installed.
if command -v redis-server >/dev/null && command -v redis-benchmark \
	>/dev/null; then
	echo "== Redis: pipelined ZINCRBY load, ZREVRANGE queries, $repeat times"
	bench/redis.sh "$csv" "$clients_list" "$duration" "$repeat" |
		while read -r line; do
			case $line in
			'{"load"'*)
				record redis_load "$(echo "$line" |
					sed 's/^{"load":\(.*\)}$/\1/')"
				;;
			'{"query"'*)
				c=$(echo "$line" | sed 's/.*"clients":\([0-9]*\).*/\1/')
				record "redis_query $c" "$(echo "$line" |
					sed 's/^{"query":\(.*\)}$/\1/')"
				;;
			esac
			echo "   $line"
		done
else
	echo "== Redis not installed (tools/deps.sh --bench installs it): no baseline"
fi

machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores,"
machine="$machine $(free -g | awk '/^Mem:/{print $2}') GB RAM,"
machine="$machine $(uname -sr)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench \
	tools || echo '+changes')"
python3 bench/results.py "$raw" "$out" --machine "$machine" \
	--commit "$commit" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	--command "DURATION=$duration WARMUP=$warmup REPEAT=$repeat bench/run.sh" \
	--db-kb "$(cat "$work/db_kb.txt")" --pairs "$(cat "$work/pairs.txt")"
cp "$raw" "${out%.md}.jsonl"
echo "== wrote $out and ${out%.md}.jsonl (the raw runs)"

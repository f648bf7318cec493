#!/usr/bin/env bash
# Scale: generate synthetic order lines with xsell-gen at several sizes
# (default 1M, 10M and 50M lines), load each into a fresh store with
# xsell-load (wall and CPU time, lines/s and peak RSS from
# /usr/bin/time, store size from du), then time fbt of one item, fbt of
# a cart of 3 and picks (for_you, users of 1..200 history events) in
# process on it by the thread's CPU time
# (--cpu-time: on a shared machine the wall p99 is the scheduler's),
# REPEAT times each, medians kept. Writes the "Scale" section of bench/RESULTS.md (between its own
# markers, below the notes that bench/run.sh keeps) and the raw runs to
# bench/SCALE.jsonl.
#
#   bench/scale.sh                                # 1M, 10M, 50M lines
#   SIZES="1000000 10000000" REPEAT=1 bench/scale.sh
#
# A size is skipped, with a note in the table, when the disk or the
# memory cannot hold it (estimated with a margin: 600 B of disk and 240
# B of memory a line; below). LOAD_REPEAT loads per
# size (default one: a load at 50M lines takes minutes); the queries,
# which are noisier, run REPEAT times, on the last load's store.
#
# Before the loads it times page faults on this machine
# (bench/page_touch.py, PAGE_TOUCH_GIB GiB twice, default 4; 0 skips it):
# on a VM whose host backs memory lazily, a page no recent run touched
# can cost several times one just freed, which the largest load pays on
# gigabytes. The report sets the loads' user and sys CPU and their page
# faults per line beside it.
#
# Environment: BUILD (default build), SIZES, REPEAT (default 3),
# LOAD_REPEAT (loads a size, default 1; the report keeps the fastest:
# the others paid more for fresh pages or for other work),
# DURATION (seconds per query run, default 5), WARMUP (default 1), WARM
# (items whose answers each query run makes first, not timed, as xselld
# does before it answers: default 1000000, xselld's --warm: every
# ordered item until the memos hold half their budget), SEED
# (xsell-gen's, default 1), GEN_FLAGS (more xsell-gen flags), OUT
# (default bench/RESULTS.md), KEEP=1 keeps the scratch directory.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

build=${BUILD:-build}
sizes=${SIZES:-1000000 10000000 50000000}
repeat=${REPEAT:-3}
load_repeat=${LOAD_REPEAT:-1}
duration=${DURATION:-5}
warmup=${WARMUP:-1}
warm=${WARM:-1000000}
seed=${SEED:-1}
gen_flags=${GEN_FLAGS:-}
out=${OUT:-bench/RESULTS.md}
# Per line, with a margin: CSV ~49 B + store ~93 B (50M lines, 13c6f14);
# xsell-load's peak RSS, the mapped store included, ~165 B a line at 50M
# (8.3 GB, 7884fda) and 270 B at 1M.
disk_per_line=600
mem_per_line=240

# /usr/bin/time (Debian's "time", with bench/run.sh's baselines), where
# the machine lacks it.
tools/deps.sh --bench ||
	echo "${0##*/}: could not install every package (tools/deps.sh --bench)" >&2
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j2 --target xsell-gen xsell-load xsell-bench \
	>/dev/null

work=$(mktemp -d /tmp/xsell-scale.XXXXXX)
raw="$work/scale.jsonl"
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "scale.sh: kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
: >"$raw"

# Entries of one named LMDB database of the store.
entries() { # db name
	mdb_stat -s "$2" "$1" | awk '/Entries:/ {print $2}'
}
# A summary figure of xsell-load's output ("lines rejected    0").
figure() { # file name
	sed -n "s/^$2  *\([0-9][0-9]*\).*/\1/p" "$1"
}

# What a page fault costs here (bench/page_touch.py), before the loads:
# on a VM that backs the guest's memory lazily, memory no recent run
# touched costs several times what memory just freed costs, and the
# largest load touches the most of it.
if [ "${PAGE_TOUCH_GIB:-4}" != 0 ]; then
	echo "== page faults: touching ${PAGE_TOUCH_GIB:-4} GiB twice"
	printf '{"kind":"page_touch","r":%s}\n' \
		"$(python3 bench/page_touch.py --gib "${PAGE_TOUCH_GIB:-4}")" >>"$raw"
fi

# One load's figures (time.txt, load.txt, the store) into the raw runs.
load_record() { # size run
	local secs kb user_s sys_s minflt
	read -r secs kb user_s sys_s minflt <"$work/time.txt"
	printf '{"size":%s,"kind":"load","run":%s,"seconds":%s,' \
		"$1" "$2" "$secs" >>"$raw"
	printf '"max_rss_kb":%s,"user_s":%s,"sys_s":%s,"minor_faults":%s,' \
		"$kb" "$user_s" "$sys_s" "$minflt" >>"$raw"
	printf '"rejected":%s,"orders":%s,"store_kb":%s,"pairs":%s,' \
		"$(figure "$work/load.txt" "lines rejected")" \
		"$(figure "$work/load.txt" "orders applied")" \
		"$(du -sk "$work/db" | awk '{print $1}')" \
		"$(entries "$work/db" pair)" >>"$raw"
	printf '"items":%s,"users":%s}\n' "$(entries "$work/db" item_id)" \
		"$(entries "$work/db" user_id)" >>"$raw"
	echo "   $secs s ($user_s s user, $sys_s s sys CPU), peak RSS $kb KB," \
		"$minflt page faults," \
		"$(figure "$work/load.txt" "lines rejected") rejected"
}

for n in $sizes; do
	avail_kb=$(df -Pk "$work" | awk 'NR==2 {print $4}')
	mem_kb=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
	if [ $((n * disk_per_line / 1024)) -gt "$avail_kb" ] ||
		[ $((n * mem_per_line / 1024)) -gt "$mem_kb" ]; then
		echo "== $n lines: skipped (needs ~$((n * disk_per_line >> 20)) MB" \
			"of disk, ~$((n * mem_per_line >> 20)) MB of memory)"
		printf '{"size":%s,"kind":"skipped","disk_kb":%s,"mem_kb":%s}\n' \
			"$n" "$avail_kb" "$mem_kb" >>"$raw"
		continue
	fi
	echo "== $n lines: generating"
	# shellcheck disable=SC2086 # GEN_FLAGS is a list of flags
	"$build/bench/xsell-gen" --lines "$n" --seed "$seed" $gen_flags \
		>"$work/lines.csv"
	for l in $(seq "$load_repeat"); do
		echo "== $n lines: loading into a fresh store ($l of $load_repeat)"
		rm -rf "$work/db"
		/usr/bin/time -f '%e %M %U %S %R' -o "$work/time.txt" \
			"$build/tools/xsell-load" --db "$work/db" --quiet \
			"$work/lines.csv" >"$work/load.txt" 2>"$work/load.err"
		load_record "$n" "$l"
	done
	rm -f "$work/lines.csv"
	for i in $(seq "$repeat"); do
		for op in fbt fbt_cart picks; do
			r=$("$build/bench/xsell-bench" --inproc --cpu-time \
				--db "$work/db" \
				--mix "$op=1" --duration "$duration" --warmup "$warmup" \
				--warm "$warm" \
				--seed "$i" --json --label "scale $n $op")
			printf '{"size":%s,"kind":"query","op":"%s","run":%s,"r":%s}\n' \
				"$n" "$op" "$i" "$r" >>"$raw"
			echo "   round $i, $op: $(echo "$r" |
				sed 's/.*"all":{[^}]*"p50_us":\([0-9.]*\).*"p99_us":\([0-9.]*\).*/p50 \1 us, p99 \2 us/')"
		done
	done
	rm -rf "$work/db"
done

machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores,"
machine="$machine $(free -g | awk '/^Mem:/{print $2}') GB RAM,"
machine="$machine $(uname -sr)"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src bench \
	tools || echo '+changes')"
command="SIZES=\"$sizes\" REPEAT=$repeat LOAD_REPEAT=$load_repeat"
command="$command DURATION=$duration WARMUP=$warmup WARM=$warm"
command="$command SEED=$seed${gen_flags:+ GEN_FLAGS=\"$gen_flags\"} bench/scale.sh"
python3 bench/scale_report.py "$raw" "$out" --machine "$machine" \
	--commit "$commit" --date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
	--command "$command"
cp "$raw" bench/SCALE.jsonl
echo "== wrote the Scale section of $out and bench/SCALE.jsonl (the raw runs)"

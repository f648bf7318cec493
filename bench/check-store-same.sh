#!/usr/bin/env bash
# Does this tree's xsell-load build the same store as an older revision?
# Builds xsell-load of REV (from `git archive`, in a scratch directory)
# and of the working tree, loads the same export with both into fresh
# stores, and compares `mdb_dump -a` of the two: every named database,
# every key and value, in order. Exit 0 when identical, 1 when not.
#
#   bench/check-store-same.sh e9a566e            # Online Retail
#   bench/check-store-same.sh e9a566e FILE...    # other exports
#
# Used to check that the accumulator rewrite (src/model/acc.c, radix
# sort instead of hash tables) changed nothing in what is stored.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ $# -lt 1 ]; then
	echo "usage: bench/check-store-same.sh REV [FILE...]" >&2
	exit 2
fi
rev=$1
shift
data_dir=${XSELL_DATA_DIR:-$root/../shared/data}
if [ -z "${XSELL_DATA_DIR:-}" ] && [ ! -d "$data_dir" ]; then
	data_dir=$root/../../shared/data
fi
files=("$@")
if [ ${#files[@]} -eq 0 ]; then
	files=("$data_dir/online-retail/online_retail.csv")
fi
command -v mdb_dump >/dev/null || {
	echo "check-store-same: mdb_dump missing (apt-get install lmdb-utils)" >&2
	exit 1
}

# mdb_dump without meta's commit stamps (keys "commit", hex
# 636f6d6d6974, and "epochs", 65706f636873, each with its value on the
# next line): they count transactions, not contents, and a store of a
# revision before them has none (src/store/snapshot.c, epochs.c).
without_commit_stamp() {
	awk '/^database=/ { meta = ($0 == "database=meta") }
		meta && ($0 == " 636f6d6d6974" || $0 == " 65706f636873") {
			skip = 2
		}
		skip > 0 { skip--; next }
		{ print }'
}

work=$(mktemp -d /tmp/xsell-same.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir "$work/old"
git archive "$rev" | tar -x -C "$work/old"
cmake -S "$work/old" -B "$work/old/build" -DXSELL_TESTS=OFF \
	-DXSELL_BENCH=OFF >/dev/null
cmake --build "$work/old/build" -j2 --target xsell-load >/dev/null
cmake -S . -B "$work/new-build" -DXSELL_TESTS=OFF -DXSELL_BENCH=OFF \
	>/dev/null
cmake --build "$work/new-build" -j2 --target xsell-load >/dev/null

for side in old new; do
	if [ $side = old ]; then
		bin="$work/old/build/tools/xsell-load"
	else
		bin="$work/new-build/tools/xsell-load"
	fi
	"$bin" --db "$work/db-$side" --quiet "${files[@]}" >/dev/null 2>&1
	mdb_dump -a "$work/db-$side" | without_commit_stamp >"$work/$side.dump"
done
lines=$(wc -l <"$work/new.dump")
if cmp -s "$work/old.dump" "$work/new.dump"; then
	echo "identical: $rev and the working tree store the same" \
		"($lines dump lines)"
	exit 0
fi
echo "DIFFERENT: $rev and the working tree store different data" >&2
diff "$work/old.dump" "$work/new.dump" | head -20 >&2
exit 1

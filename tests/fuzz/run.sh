#!/usr/bin/env bash
# Build the libFuzzer harnesses with clang (ASan+UBSan) and run each for
# a bounded time from the committed seed corpus and regression files.
#
#   tests/fuzz/run.sh [decode|load|gateway|config]...  (default: all)
#   FUZZ_SECONDS=600 tests/fuzz/run.sh decode
#   FUZZ_SEED=20261201 tests/fuzz/run.sh   (what tools/check.sh and CI run)
#
# With FUZZ_SEED the search is reproducible: that seed, starting from the
# committed corpus only (a fresh output corpus each run), so CI explores
# the same inputs as any machine at least as fast, and a crash CI finds
# is found again here. Without it libFuzzer picks a seed and keeps what it
# learns in build-fuzz/corpus/: the way to search longer and wider.
#
# New interesting inputs go to build-fuzz/corpus/<harness>/ (not into the
# repository). A crash stops the run with exit 1 and leaves the input in
# build-fuzz/crashes/; after fixing the bug, copy it to
# tests/fuzz/regressions/<harness>/ so ctest replays it in every build.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${FUZZ_SECONDS:-60}
seed=${FUZZ_SEED:-0}
harnesses=("$@")
[ ${#harnesses[@]} -eq 0 ] && harnesses=(decode load gateway config)
jobs=${FUZZ_BUILD_JOBS:-2}
out=build-fuzz

command -v clang >/dev/null || {
	echo "run.sh: clang is needed (apt-get install clang)" >&2
	exit 2
}
CC=clang cmake -S . -B "$out" -DXSELL_FUZZ=ON -DXSELL_BENCH=OFF \
	-DXSELL_SANITIZER=address+undefined -DCMAKE_BUILD_TYPE=Debug \
	-DXSELL_WERROR=ON >/dev/null
targets=()
for h in "${harnesses[@]}"; do
	case "$h" in
	decode | load | gateway | config) targets+=("fuzz_$h") ;;
	*)
		echo "run.sh: unknown harness '$h' (decode, load, gateway, config)" >&2
		exit 2
		;;
	esac
done
cmake --build "$out" -j"$jobs" --target "${targets[@]}"

status=0
for h in "${harnesses[@]}"; do
	corpus="$out/corpus/$h"
	if [ "$seed" != 0 ]; then
		corpus="$out/corpus-seeded/$h"
		rm -rf "$corpus"
	fi
	mkdir -p "$corpus" "$out/crashes"
	echo "fuzz_$h: ${seconds}s, seed $seed (0: random)"
	# -timeout: one input taking 10 s is a hang, reported like a crash.
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		"$out/tests/fuzz/fuzz_$h" -max_total_time="$seconds" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-seed="$seed" -artifact_prefix="$out/crashes/$h-" \
		"$corpus" "tests/fuzz/corpus/$h" \
		"tests/fuzz/regressions/$h" 2>"$out/fuzz_$h.log"; then
		status=1
		tail -n 60 "$out/fuzz_$h.log" >&2
		echo "fuzz_$h: FAILED; input in $out/crashes/, log in" \
			"$out/fuzz_$h.log" >&2
	else
		grep -E '^stat::number_of_executed_units|^#.*DONE' \
			"$out/fuzz_$h.log" || true
		echo "fuzz_$h: no crash in ${seconds}s"
	fi
done
exit $status

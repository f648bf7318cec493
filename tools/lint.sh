#!/usr/bin/env bash
# Static analysis of src/, tools/ and bench/: cppcheck, then clang-tidy
# with the checks of .clang-tidy. Exits 1 on any finding, 0 when both
# are clean. False positives are suppressed where they stand (cppcheck:
# tools/cppcheck.supp; clang-tidy: NOLINT(check) with the reason, or in
# .clang-tidy with the reason); findings in files another change owns
# right now are listed, with their reason, in tools/lint-known.txt.
# LINT_JOBS (default 2) sets clang-tidy's parallelism.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh

jobs="${LINT_JOBS:-2}"
root="$PWD"
build="$root/build-lint"
out="$build/lint.log"

# clang-tidy reads the compile commands of a configured tree (no build).
cmake -S . -B "$build" -DXSELL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
	-DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null

status=0
echo "lint: cppcheck" >&2
if ! cppcheck --enable=warning,performance,portability --std=c11 \
	--inline-suppr --error-exitcode=1 --quiet \
	--suppressions-list=tools/cppcheck.supp \
	-I include -I src src tools bench; then
	status=1
fi

echo "lint: clang-tidy (-j$jobs)" >&2
run-clang-tidy -p "$build" -j"$jobs" -quiet \
	"$root/(src|tools|bench)/.*\.c$" >"$out" 2>&1 || true
# One line per finding, "path:line:col: warning: text [check]", paths
# relative to the tree; then without the known ones.
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$out" |
	{ grep -E '^/.*: (warning|error): ' || true; } |
	sed "s|^$root/||" | sort -u)
known=$(grep -v '^#' tools/lint-known.txt | grep -v '^$' || true)
new=$(printf '%s\n' "$findings" | { grep -v '^$' || true; } | while IFS= read -r f; do
	path=${f%%:*}
	check=$(printf '%s' "$f" | grep -o '\[[^]]*\]$' || true)
	if ! printf '%s\n' "$known" | grep -qxF "$path $check"; then
		printf '%s\n' "$f"
	fi
done)
n_known=$(($(printf '%s\n' "$findings" | grep -c . || true) -
	$(printf '%s\n' "$new" | grep -c . || true)))
if [ -n "$new" ]; then
	printf '%s\n' "$new"
	echo "lint: $(printf '%s\n' "$new" | grep -c .) clang-tidy" \
		"finding(s); full output in $out" >&2
	status=1
fi
if [ "$status" -ne 0 ]; then
	echo "lint: FAILED" >&2
	exit 1
fi
echo "lint: clean (cppcheck 0, clang-tidy 0; $n_known known, listed in" \
	"tools/lint-known.txt)"

#!/usr/bin/env bash
# Run every test: a -Werror build with ctest, then the same tests under
# ASan+UBSan. This is the README's test command and what .ci/run calls.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/deps.sh
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DXSELL_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DXSELL_WERROR=ON -DCMAKE_BUILD_TYPE=Debug \
	-DXSELL_SANITIZER=address+undefined >/dev/null
cmake --build build-asan -j"$jobs"
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure \
	-j"$jobs"
# Static analysis: cppcheck and clang-tidy over src, tools and bench
# (about 2 minutes on 2 cores); any finding fails the check.
LINT_JOBS="$jobs" tools/lint.sh
# Fuzzing, bounded: each libFuzzer harness for 60 s (FUZZ_SECONDS) from
# the seed corpus, built with clang (tools/deps.sh installs it, with
# libclang-rt-14-dev: the libFuzzer and sanitizer runtimes). A fixed seed
# (FUZZ_SEED) makes the run reproducible: what fails in CI fails here.
# Longer, wider searches: FUZZ_SEED=0 FUZZ_SECONDS=3600 tests/fuzz/run.sh.
FUZZ_SEED="${FUZZ_SEED:-20261201}" FUZZ_BUILD_JOBS="$jobs" tests/fuzz/run.sh
echo "check: all tests passed (plain and ASan+UBSan), lint clean"

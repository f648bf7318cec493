#!/usr/bin/env bash
# Install the Debian packages xsell needs, when any is missing. Used by
# tools/demo.sh and tools/check.sh (and so by .ci/run) on a fresh machine.
#
#   tools/deps.sh           what building, the demo and the tests need
#   tools/deps.sh --bench   and what bench/run.sh and bench/scale.sh
#                           compare against or time with
set -euo pipefail

bench=false
case "${1:-}" in
"") ;;
--bench) bench=true ;;
*)
	echo "usage: tools/deps.sh [--bench]" >&2
	exit 2
	;;
esac

packages=(build-essential cmake pkg-config libnng-dev nng-utils
	libmsgpack-dev liblmdb-dev lmdb-utils libcmocka-dev libjansson-dev
	python3 python3-msgpack)
# The fuzzers (tests/fuzz/run.sh, run by tools/check.sh) need clang and
# its libFuzzer runtime, which is only a "recommends" of clang.
packages+=(clang libclang-rt-14-dev)
# The ops console's browser test (tests/client/test_console.py, skipped
# without it) drives Debian's headless Chromium.
packages+=(chromium)
# tools/valgrind.sh (the suite under memcheck, run by hand before a
# submission) and tools/lint.sh (cppcheck and clang-tidy, which
# tools/check.sh runs).
packages+=(valgrind cppcheck clang-tidy)

# A test that hangs prints its stacks and its servers' with gdb
# (tests/support/watchdog.c) before ctest's timeout kills it.
packages+=(gdb)

# The TLS test (tests/integration/test_server_tls.c, skipped without it)
# makes its certificates with the openssl CLI.
packages+=(openssl)

# The baselines bench/run.sh starts on private sockets (PostgreSQL's
# COPY and GROUP BY, Redis's ZINCRBY and ZREVRANGE), and /usr/bin/time
# for the loads' peak memory.
if $bench; then
	packages+=(postgresql redis-server redis-tools time)
fi

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `cmake --install` into a temporary prefix puts what a user of the
# package needs where they look for it, and a program built against the
# installed client library with pkg-config alone runs. Usage:
#   test_install.sh BUILD_DIR
set -euo pipefail
build=$1
prefix=$(mktemp -d /tmp/xsell-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build" --prefix "$prefix" >/dev/null

for bin in xselld xsell xsell-load xsell-eval xsell-gateway; do
	[ -x "$prefix/bin/$bin" ] || fail "bin/$bin not installed"
	[ -f "$prefix/share/man/man1/$bin.1" ] || fail "no man page for $bin"
	"$prefix/bin/$bin" --help >/dev/null || fail "$bin --help failed"
done
for h in client.h errors.h limits.h; do
	[ -f "$prefix/include/xsell/$h" ] || fail "include/xsell/$h missing"
done
unit=$(find "$prefix" -name xselld.service)
[ -n "$unit" ] || fail "no systemd unit"
grep -q "^ExecStart=.*/xselld --db " "$unit" || fail "unit has no ExecStart"

# The unit's own command line, with its paths moved into the prefix
# (its xselld is where the build's prefix puts it: the prefix here),
# started under the unit's UMask: the installed xselld takes every
# option, and its sockets get the modes the unit promises (read: the
# group; admin: the server's user alone).
run="$prefix/run"
mkdir -p "$run"
cmd=$(sed -n 's/^ExecStart=//p' "$unit" |
	sed -e "s|^[^ ]*/xselld |$prefix/bin/xselld |" \
		-e "s|/var/lib/xsell|$prefix/state|" -e "s|/run/xsell|$run|g")
umask_unit=$(sed -n 's/^UMask=//p' "$unit")
[ -n "$umask_unit" ] || fail "unit sets no UMask"
# shellcheck disable=SC2086 # the command line is split as systemd would
(umask "$umask_unit" && exec $cmd) &
pid=$!
for _ in $(seq 50); do
	[ -S "$run/xsell-admin.sock" ] && break
	sleep 0.1
done
"$prefix/bin/xsell" --url "ipc://$run/xsell.sock" stats >/dev/null ||
	fail "the unit's xselld does not answer stats"
[ "$(stat -c %a "$run/xsell.sock")" = 660 ] ||
	fail "read socket mode $(stat -c %a "$run/xsell.sock"), not 660"
[ "$(stat -c %a "$run/xsell-admin.sock")" = 600 ] ||
	fail "admin socket mode $(stat -c %a "$run/xsell-admin.sock"), not 600"
kill -TERM "$pid"
wait "$pid" || fail "the unit's xselld did not exit 0 on SIGTERM"

pc=$(find "$prefix" -name xsell-client.pc)
[ -n "$pc" ] || fail "no pkg-config file"

# A client built from the installed files only (not the source tree):
# open a handle, ask a server that is not there, read the error.
cat >"$prefix/hello.c" <<'C'
#include <stdio.h>
#include <xsell/client.h>

int
main(void)
{
	xsell_client *c;
	xsell_err     err = xsell_client_dial(&c, "ipc:///nonexistent/x.sock", 200);

	printf("%s %d\n", xsell_err_wire(err), XSELL_K_MAX);
	return err == XSELL_OK;
}
C
export PKG_CONFIG_PATH
PKG_CONFIG_PATH=$(dirname "$pc")
# shellcheck disable=SC2046 # word splitting of the flags is wanted
cc -o "$prefix/hello" "$prefix/hello.c" $(pkg-config --cflags xsell-client) \
	$(pkg-config --libs --static xsell-client) ||
	fail "a program could not be built with pkg-config xsell-client"
out=$("$prefix/hello")
[ "$out" = "unavailable 500" ] || fail "hello printed '$out'"
echo "ok: binaries, man pages, headers, systemd unit (its command line runs, its sockets' modes), pkg-config; a client built from them runs"

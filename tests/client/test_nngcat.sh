#!/bin/bash
# SPDX-License-Identifier: MIT
# A client we did not write: nngcat (Debian's nng-utils) talks to a fresh
# xselld. The stats request is msgpack written by hand with printf octal
# escapes; the others are packed by Debian's python3-msgpack, which also
# decodes every reply. Nothing of xsell's own code is on the client side.
#
# Usage: test_nngcat.sh PATH_TO_XSELLD
# Exit: 0 pass, 77 skip (no nngcat, libnng.so.1 or python3-msgpack),
#       anything else fail.
set -u

XSELLD=${1:?usage: test_nngcat.sh PATH_TO_XSELLD}
PY=/usr/bin/python3

skip() {
	echo "SKIP: $*"
	exit 77
}
command -v nngcat >/dev/null 2>&1 || skip "nngcat (nng-utils) is not installed"
if ! [ -x "$PY" ] || ! "$PY" -c 'import msgpack' 2>/dev/null; then
	skip "python3-msgpack is not installed"
fi
"$PY" -c 'import ctypes; ctypes.CDLL("libnng.so.1")' 2>/dev/null ||
	skip "libnng.so.1 is not installed"
[ -x "$XSELLD" ] || { echo "FAIL: $XSELLD is not an executable"; exit 1; }

DIR=$(mktemp -d /tmp/xsell-nngcat.XXXXXX) || exit 1
READ="ipc://$DIR/read.sock"
ADMIN="ipc://$DIR/admin.sock"
PULL="ipc://$DIR/pull.sock"
PID=

cleanup() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -TERM "$PID" 2>/dev/null
		for _ in $(seq 1 50); do
			kill -0 "$PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 2' INT TERM

fail() {
	echo "FAIL: $*"
	echo "xselld log (tail):"
	tail -n 20 "$DIR/xselld.log" 2>/dev/null | sed 's/^/  | /'
	exit 1
}

# pack FILE JSON: write the msgpack form of JSON to FILE.
pack() {
	"$PY" -c 'import json, sys, msgpack
open(sys.argv[1], "wb").write(msgpack.packb(json.loads(sys.argv[2])))' "$1" "$2"
}

# ask URL REQFILE REPFILE: send one request with nngcat, keep the raw
# reply. (nngcat --count with --recv-timeout fails after the reply in
# nng 1.5.2, so a REQ's one exchange is left to end by itself.)
ask() {
	nngcat --req --dial "$1" --file "$2" --raw --recv-timeout 5 \
		>"$3" 2>"$3.err" || return 1
	[ -s "$3" ]
}

# check REPFILE PYEXPR: decode the reply into r (it must be one msgpack
# map and nothing else) and evaluate PYEXPR.
check() {
	"$PY" -c 'import sys, msgpack
data = open(sys.argv[1], "rb").read()
r = msgpack.unpackb(data, raw=False)
print("       reply (%d bytes): %r" % (len(data), r))
ok = isinstance(r, dict) and eval("(" + sys.argv[2] + ")")
sys.exit(0 if ok else 1)' "$1" "$2"
}

"$XSELLD" --db "$DIR/db" --listen "$READ" --admin "$ADMIN" --pull "$PULL" \
	>"$DIR/xselld.log" 2>&1 &
PID=$!

# {"op":"stats"} by hand: fixmap(1) 0x81, fixstr(2) 0xa2 "op",
# fixstr(5) 0xa5 "stats".
printf '\201\242op\245stats' >"$DIR/stats.req"
up=
for _ in $(seq 1 50); do
	kill -0 "$PID" 2>/dev/null || fail "xselld exited at start"
	if nngcat --req --dial "$READ" --file "$DIR/stats.req" --raw \
		--recv-timeout 1 >"$DIR/stats.rep" 2>/dev/null &&
		[ -s "$DIR/stats.rep" ]; then
		up=1
		break
	fi
	sleep 0.1
done
[ -n "$up" ] || fail "xselld did not answer stats within 5 s"
check "$DIR/stats.rep" 'r.get("ok") is True and
	isinstance(r.get("version"), str) and r["counts"]["orders"] == 0' ||
	fail "stats reply"
echo "ok   stats (bytes from printf) over nngcat on the read endpoint"

pack "$DIR/event.req" '{"op":"event","id":"e-1","events":[
	{"type":"order","order":"n1","user":"nu1","items":["A","B"]},
	{"type":"order","order":"n2","user":"nu2","items":["A","B","C"]}]}'
ask "$ADMIN" "$DIR/event.req" "$DIR/event.rep" ||
	fail "nngcat event: $(cat "$DIR/event.rep.err")"
check "$DIR/event.rep" \
	'r == {"ok": True, "id": "e-1", "applied": 2, "duplicates": 0}' ||
	fail "event reply"
echo "ok   event over nngcat on the admin endpoint"

pack "$DIR/fbt.req" '{"op":"fbt","id":42,"items":["A","nope"],
	"scorer":"count","k":5,"explain":true}'
ask "$READ" "$DIR/fbt.req" "$DIR/fbt.rep" ||
	fail "nngcat fbt: $(cat "$DIR/fbt.rep.err")"
check "$DIR/fbt.rep" 'r == {"ok": True, "id": 42,
	"items": [{"item": "B", "score": 2.0, "count": 2},
	          {"item": "C", "score": 1.0, "count": 1}],
	"unknown": ["nope"]}' ||
	fail "fbt reply"
echo "ok   fbt over nngcat on the read endpoint"

ask "$READ" "$DIR/event.req" "$DIR/forbidden.rep" ||
	fail "nngcat event (read): $(cat "$DIR/forbidden.rep.err")"
check "$DIR/forbidden.rep" 'r.get("ok") is False and r.get("id") == "e-1"
	and r["error"]["code"] == "forbidden"' ||
	fail "a write on the read endpoint was not forbidden"
echo "ok   event on the read endpoint is forbidden"

printf '\301' >"$DIR/bad.req"
ask "$READ" "$DIR/bad.req" "$DIR/bad.rep" ||
	fail "nngcat 0xc1: $(cat "$DIR/bad.rep.err")"
check "$DIR/bad.rep" \
	'r.get("ok") is False and r["error"]["code"] == "bad_request"' ||
	fail "0xc1 was not bad_request"
echo "ok   malformed msgpack (0xc1) is bad_request"

ask "$READ" "$DIR/stats.req" "$DIR/stats2.rep" || fail "stats at the end"
check "$DIR/stats2.rep" 'r.get("ok") is True and
	r["counts"]["orders"] == 2 and r["counts"]["baskets"] == 2' ||
	fail "stats at the end"
echo "ok   stats sees the two orders"

# Fire-and-forget: nngcat --push sends an event request to the pull
# endpoint (no reply comes); stats.pull then counts it as applied, and
# counts.orders has its order. Polled up to 10 s: the push is not
# acknowledged, so only stats tells when it was applied.
pack "$DIR/push.req" '{"op":"event","events":[
	{"type":"order","order":"n3","user":"nu3","items":["B","C"]},
	{"type":"view","user":"nu3","item":"A"}]}'
nngcat --push --dial "$PULL" --file "$DIR/push.req" 2>"$DIR/push.err" ||
	fail "nngcat --push: $(cat "$DIR/push.err")"
applied=
for _ in $(seq 1 100); do
	ask "$READ" "$DIR/stats.req" "$DIR/stats3.rep" || fail "stats after push"
	if check "$DIR/stats3.rep" 'r["pull"]["messages"] == 1' >/dev/null; then
		applied=1
		break
	fi
	sleep 0.1
done
[ -n "$applied" ] || fail "the pushed message was not dealt with in 10 s"
check "$DIR/stats3.rep" 'r["pull"] == {"messages": 1, "applied": 1,
	"events": 2, "duplicates": 0, "rejected": 0, "refused": 0,
	"failed": 0} and r["counts"]["orders"] == 3' ||
	fail "stats.pull after nngcat --push"
echo "ok   nngcat --push to the pull endpoint: applied, counted in stats.pull"

kill -TERM "$PID"
rc=0
wait "$PID" || rc=$?
PID=
[ "$rc" -eq 0 ] || fail "xselld exited with $rc after SIGTERM (expected 0)"
echo "ok   SIGTERM: xselld exited 0"
echo PASS

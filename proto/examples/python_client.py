#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A minimal xsell client in Python: msgpack over nng REQ/REP, with
Debian's python3-msgpack and libnng through ctypes (no pip packages).

    python_client.py URL ITEM [K]
    python_client.py ipc:///tmp/xsell.sock 22697 5

Asks "frequently bought with ITEM" and prints one "item score" line per
answer. See proto/PROTOCOL.md for every op; any request map works with
call(). push() sends an "event" request to an `xselld --pull` endpoint,
fire and forget (PROTOCOL.md, "Fire-and-forget events").
"""
import ctypes
import ctypes.util
import sys

import msgpack

NNG = ctypes.CDLL(ctypes.util.find_library("nng") or "libnng.so.1")
NNG_FLAG_ALLOC = 1


class Socket(ctypes.Structure):
    _fields_ = [("id", ctypes.c_uint32)]


def check(rv, what):
    if rv != 0:
        raise OSError("%s: %s" % (what, NNG.nng_strerror(rv).decode()))


def call(url, request, timeout_ms=5000):
    """Send one request map to url, return the reply map."""
    sock = Socket()
    check(NNG.nng_req0_open(ctypes.byref(sock)), "nng_req0_open")
    try:
        check(NNG.nng_socket_set_ms(sock, b"recv-timeout", timeout_ms),
              "recv-timeout")
        check(NNG.nng_dial(sock, url.encode(), None, 0), "nng_dial")
        data = msgpack.packb(request, use_bin_type=True)
        check(NNG.nng_send(sock, data, len(data), 0), "nng_send")
        buf = ctypes.c_void_p()
        size = ctypes.c_size_t()
        check(NNG.nng_recv(sock, ctypes.byref(buf), ctypes.byref(size),
                           NNG_FLAG_ALLOC), "nng_recv")
        try:
            # strict_map_key=False: a reply may hold maps with keys
            # that are not strings (the request's "id", echoed as sent).
            return msgpack.unpackb(ctypes.string_at(buf, size.value),
                                   raw=False, strict_map_key=False)
        finally:
            NNG.nng_free(buf, size)
    finally:
        NNG.nng_close(sock)


def push(url, request, timeout_ms=5000):
    """Send one "event" request map to the pull endpoint at url. No
    reply comes: its outcome shows only in stats.pull. A long-lived
    sender would keep its socket open rather than dial per batch."""
    sock = Socket()
    check(NNG.nng_push0_open(ctypes.byref(sock)), "nng_push0_open")
    try:
        check(NNG.nng_socket_set_ms(sock, b"send-timeout", timeout_ms),
              "send-timeout")
        check(NNG.nng_dial(sock, url.encode(), None, 0), "nng_dial")
        data = msgpack.packb(request, use_bin_type=True)
        check(NNG.nng_send(sock, data, len(data), 0), "nng_send")
    finally:
        NNG.nng_close(sock)


NNG.nng_strerror.restype = ctypes.c_char_p
NNG.nng_free.argtypes = [ctypes.c_void_p, ctypes.c_size_t]


def main():
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    k = int(sys.argv[3]) if len(sys.argv) == 4 else 10
    reply = call(sys.argv[1], {"op": "fbt", "items": [sys.argv[2]], "k": k})
    if not reply["ok"]:
        print("%s: %s" % (reply["error"]["code"], reply["error"]["message"]),
              file=sys.stderr)
        return 1
    for it in reply["items"]:
        print("%s %g" % (it["item"], it["score"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

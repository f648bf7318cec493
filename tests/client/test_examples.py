#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The client examples of proto/examples/ work against a real xselld:
python_client.py over ipc:// (msgpack, libnng through ctypes) and
node_client.mjs over `xselld --http` (JSON, Node's fetch; skipped when
node is not installed). The store holds proto/vectors/setup.json; the
expected answer is fbt of A under the default scorer, tempered
(N_ab/N_a sqrt(N_ab N / (N_a N_b))), worked by hand over its 5 orders:
B 3/4 sqrt(3*5/(4*4)) = 0.726184, C 2/4 sqrt(2*5/(4*2)) = 0.559017,
E out of stock.

Usage: test_examples.py --xselld PATH --proto DIR
"""
import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

WANT = "B 0.726184\nC 0.559017\n"


def fail(msg):
    print("FAIL " + msg)
    sys.exit(1)


def wait_for_port(log_path, limit=10.0):
    """The HTTP port xselld logged ("listening on ... port N")."""
    end = time.monotonic() + limit
    while time.monotonic() < end:
        with open(log_path, encoding="utf-8", errors="replace") as f:
            m = re.search(r"port (\d+)", f.read())
        if m:
            return int(m.group(1))
        time.sleep(0.05)
    fail("xselld logged no HTTP port within %.0f s" % limit)
    return 0


def setup_store(examples, proto, admin_url):
    sys.path.insert(0, examples)
    import python_client  # the example's own call()

    with open(os.path.join(proto, "vectors", "setup.json")) as f:
        setup = json.load(f)
    for step in setup["steps"]:
        end = time.monotonic() + 10
        while True:
            try:
                rep = python_client.call(admin_url, step["request"])
                break
            except OSError:
                if time.monotonic() > end:
                    raise
                time.sleep(0.05)  # xselld still starting
        if not rep.get("ok"):
            fail("setup: %r" % (rep,))


def check_id_echo(read_url):
    """A request's id comes back verbatim, whatever msgpack value it is
    (PROTOCOL.md): one that is a map with integer keys too, which
    msgpack's unpackb refuses unless told strict_map_key=False."""
    import python_client

    try:
        rep = python_client.call(read_url, {"op": "stats", "id": {1: "a"}})
    except ValueError as e:
        fail("python_client.call: a reply with an integer map key: %s" % e)
    if rep.get("id") != {1: "a"}:
        fail("python_client.call: id %r came back as %r" %
             ({1: "a"}, rep.get("id")))
    print("ok   python_client.call reads a reply with integer map keys")


def check_push(read_url, pull_url):
    """python_client.push: an event batch sent to xselld's pull endpoint
    is applied (stats.pull counts it, and the view is in the store)."""
    import python_client

    before = python_client.call(read_url, {"op": "stats"})["counts"]["events"]
    python_client.push(pull_url, {"op": "event", "events": [
        {"type": "view", "user": "push-u1", "item": "A", "ts": 1700000000},
        {"type": "view", "user": "push-u1", "item": "B", "ts": 1700000010}]})
    for _ in range(300):
        rep = python_client.call(read_url, {"op": "stats"})
        if rep["pull"]["messages"] >= 1:
            break
        time.sleep(0.1)
    if rep["pull"]["applied"] != 1 or rep["pull"]["events"] != 2:
        fail("python_client.push: stats.pull %r" % (rep["pull"],))
    if rep["counts"]["events"] != before + 2:
        fail("python_client.push: counts.events %d, expected %d" %
             (rep["counts"]["events"], before + 2))
    print("ok   python_client.push's batch is applied (stats.pull)")


def run(cmd, what):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if out.returncode != 0 or out.stdout != WANT:
        fail("%s: exit %d, printed %r, expected %r; stderr %s" %
             (what, out.returncode, out.stdout, WANT, out.stderr))
    print("ok   %s prints fbt of A" % what)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xselld", required=True)
    ap.add_argument("--proto", required=True)
    a = ap.parse_args()
    examples = os.path.join(a.proto, "examples")
    tmp = tempfile.mkdtemp(prefix="xsell-examples-")
    read_url = "ipc://%s/read.sock" % tmp
    admin_url = "ipc://%s/admin.sock" % tmp
    pull_url = "ipc://%s/pull.sock" % tmp
    log_path = os.path.join(tmp, "xselld.log")
    with open(log_path, "wb") as log:
        srv = subprocess.Popen(
            [a.xselld, "--db", os.path.join(tmp, "db"), "--listen", read_url,
             "--admin", admin_url, "--pull", pull_url,
             "--http", "127.0.0.1:0"],
            stdout=log, stderr=subprocess.STDOUT)
    try:
        port = wait_for_port(log_path)
        setup_store(examples, a.proto, admin_url)
        check_id_echo(read_url)
        check_push(read_url, pull_url)
        run([sys.executable, os.path.join(examples, "python_client.py"),
             read_url, "A", "5"], "python_client.py")
        node = shutil.which("node")
        if node is None:
            print("skip node_client.mjs: node is not installed")
        else:
            run([node, os.path.join(examples, "node_client.mjs"),
                 "http://127.0.0.1:%d" % port, "A", "5"], "node_client.mjs")
    finally:
        srv.send_signal(signal.SIGTERM)
        try:
            srv.wait(timeout=10)
        except subprocess.TimeoutExpired:
            srv.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

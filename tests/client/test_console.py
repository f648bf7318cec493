#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""The ops console (GET /) in a real browser: Debian's headless Chromium.

Starts `xselld --http --http-admin` on a fresh store, loads
proto/vectors/setup.json through the admin address, then drives Chromium
over the DevTools protocol on a pipe (--remote-debugging-pipe: Python's
standard library only, nothing from a registry):

- the page loads with no script error, trending and the server's health
  appear (health "up", items 5);
- an item is typed into the search box and the button clicked: the
  lists show what was worked out by hand from setup.json (below), and
  the graph names the via-item;
- a user's picks appear, each with its explanation;
- a screenshot is saved (--screenshot PATH).

Hand-worked answers (setup.json: N_A=4, N_B=4, N_C=2, N_D=1, N_E=1,
N_AB=3, N_AC=2, N_BD=1; E out of stock):
- fbt A, tempered (the default) over 5 orders: B 3/4 sqrt(3*5/(4*4))
  = 0.726, C 2/4 sqrt(2*5/(4*2)) = 0.559;
- complements A: D via B, p(B|A) * N_BD/N_B = 3/4 * 1/4 = 0.1875, times
  D's momentum (weight 300, prior 10, all orders of one day: 1 + 300 *
  1/(1 + 10) = 311/11): 5.301;
- similar A, jaccard (the default) over orders: B 3/(4+4-3) = 0.6,
  C 2/(4+2-2) = 0.5 (E out of stock).

Usage: test_console.py --xselld PATH --proto DIR [--screenshot PATH]
Exit: 0 pass, 1 fail, 77 skipped (no chromium on this machine).
"""

import argparse
import base64
import fcntl
import json
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

WAIT_S = 20  # the longest we wait for anything; not a measure


class Fail(Exception):
    pass


def ok(msg):
    print("ok   " + msg, flush=True)


def find_chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


# ---- xselld ---------------------------------------------------------------------

def start_xselld(xselld, tmp):
    log = open(os.path.join(tmp, "xselld.log"), "w+b")
    p = subprocess.Popen([xselld, "--db", os.path.join(tmp, "db"),
                          "--http", "127.0.0.1:0", "--http-admin",
                          "127.0.0.1:0"], stdout=log, stderr=log)
    deadline = time.time() + WAIT_S
    while time.time() < deadline:
        with open(log.name, "rb") as f:
            ports = re.findall(rb"port (\d+)", f.read())
        if len(ports) >= 2:
            return p, log, int(ports[0]), int(ports[1])
        if p.poll() is not None:
            break
        time.sleep(0.05)
    raise Fail("xselld did not log its two HTTP ports")


def post(port, op, body):
    req = urllib.request.Request(
        "http://127.0.0.1:%d/v1/%s" % (port, op),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def load_setup(admin, proto):
    with open(os.path.join(proto, "vectors", "setup.json")) as f:
        setup = json.load(f)
    for step in setup["steps"]:
        req = dict(step["request"])
        op = req.pop("op")
        got = post(admin, op, req)
        if not got.get("ok"):
            raise Fail("setup: %s" % json.dumps(got))


# ---- Chromium over the DevTools protocol on a pipe ----------------------------

class Browser:
    """Chromium with --remote-debugging-pipe: it reads commands on fd 3
    and writes replies and events on fd 4, JSON texts ended by NUL."""

    def __init__(self, exe, tmp):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # Above 3 and 4, so that the dup2 in the child clobbers nothing.
        hi_r = fcntl.fcntl(to_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_w, fcntl.F_DUPFD, 10)
        for fd in (to_r, from_w):
            os.close(fd)

        def child_fds():
            os.dup2(hi_r, 3)
            os.dup2(hi_w, 4)

        self.log = open(os.path.join(tmp, "chromium.log"), "w+b")
        self.p = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-dev-shm-usage", "--no-first-run",
             "--no-default-browser-check", "--remote-debugging-pipe",
             "--user-data-dir=" + os.path.join(tmp, "chromium"),
             "--window-size=1200,1000", "about:blank"],
            stdout=self.log, stderr=self.log, stdin=subprocess.DEVNULL,
            preexec_fn=child_fds, close_fds=False)
        os.close(hi_r)
        os.close(hi_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def _read_message(self, deadline):
        while b"\0" not in self.buf:
            left = deadline - time.time()
            if left <= 0 or not select.select([self.from_r], [], [],
                                              left)[0]:
                raise Fail("chromium: no message within %d s" % WAIT_S)
            data = os.read(self.from_r, 1 << 16)
            if not data:
                raise Fail("chromium closed its pipe")
            self.buf += data
        text, _, self.buf = self.buf.partition(b"\0")
        return json.loads(text)

    def send(self, method, params=None, session=True):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method,
               "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.time() + WAIT_S
        while True:
            m = self._read_message(deadline)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise Fail("chromium %s: %s" % (method, m["error"]))
                return m.get("result", {})
            self.events.append(m)

    def open_page(self):
        targets = self.send("Target.getTargets", session=False)
        pages = [t for t in targets["targetInfos"] if t["type"] == "page"]
        if pages:
            target = pages[0]["targetId"]
        else:
            target = self.send("Target.createTarget", {"url": "about:blank"},
                               session=False)["targetId"]
        self.session = self.send("Target.attachToTarget",
                                 {"targetId": target, "flatten": True},
                                 session=False)["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            self.send(domain + ".enable")

    def eval(self, expr):
        r = self.send("Runtime.evaluate", {"expression": expr,
                                           "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise Fail("page: %s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait_for(self, what, expr):
        """Poll the page until 'expr' is truthy; its value."""
        deadline = time.time() + WAIT_S
        while time.time() < deadline:
            v = self.eval(expr)
            if v:
                return v
            time.sleep(0.1)
        raise Fail("page: %s did not appear within %d s" % (what, WAIT_S))

    def errors(self):
        """Script exceptions and console errors seen so far."""
        out = []
        for e in self.events:
            if e.get("method") == "Runtime.exceptionThrown":
                out.append(e["params"]["exceptionDetails"].get("text"))
            elif e.get("method") == "Log.entryAdded" and \
                    e["params"]["entry"]["level"] == "error":
                entry = e["params"]["entry"]
                out.append("%s (%s)" % (entry["text"], entry.get("url")))
        return out

    def close(self):
        if self.p.poll() is None:
            try:
                self.send("Browser.close", session=False)
            except Fail:
                pass
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        os.close(self.to_w)
        os.close(self.from_r)


# A list's entries as [[item, score text, note text], ...].
LIST = """Array.from(document.querySelectorAll('#%s li')).map(li => [
  (li.querySelector('.item') || {}).textContent || '',
  (li.querySelector('.score') || {}).textContent || '',
  (li.querySelector('.note') || li).textContent || ''])"""


def check_console(b, port, shot):
    b.send("Page.navigate", {"url": "http://127.0.0.1:%d/" % port})
    b.wait_for("the page", "document.readyState === 'complete' && "
               "!!document.getElementById('item')")
    trending = b.wait_for("trending", "(%s).length && %s" %
                          (LIST % "trending", LIST % "trending"))
    if "A" not in [t[0] for t in trending]:
        raise Fail("trending: %r has no A" % trending)
    health = b.wait_for("health", "document.getElementById('health')"
                        ".className === 'up' && Array.from(document."
                        "querySelectorAll('#metrics dt, #metrics dd'))"
                        ".map(e => e.textContent)")
    pairs = dict(zip(health[0::2], health[1::2]))
    if pairs.get("items") != "5" or pairs.get("orders") != "5":
        raise Fail("health: %r, expected 5 items and 5 orders" % pairs)
    ok("page loaded: trending (%d items), health up, 5 items, 5 orders" %
       len(trending))

    # Type the item and click the button, as a person would.
    b.eval("document.getElementById('item').focus()")
    b.send("Input.insertText", {"text": "A"})
    b.eval("document.querySelector('#item-form button').click()")
    fbt = b.wait_for("fbt", "(%s).length && %s" % (LIST % "fbt",
                                                    LIST % "fbt"))
    if [f[:2] for f in fbt] != [["B", "0.726"], ["C", "0.559"]]:
        raise Fail("fbt A: %r, expected B 0.726, C 0.559" % fbt)
    comp = b.wait_for("complements", LIST % "complements")
    if [c[:2] for c in comp] != [["D", "5.301"]] or \
            "via B" not in comp[0][2]:
        raise Fail("complements A: %r, expected D 5.301 via B" % comp)
    sim = b.wait_for("similar", LIST % "similar")
    if [s[:2] for s in sim] != [["B", "0.6"], ["C", "0.5"]]:
        raise Fail("similar A: %r, expected B 0.6, C 0.5" % sim)
    graph = b.eval("Array.from(document.querySelectorAll('#graph text'))"
                   ".map(t => t.textContent)")
    if graph[:2] != ["A", "via B"] or not graph[2].startswith("D"):
        raise Fail("graph: %r, expected A, via B, D" % graph)
    ok("item A typed and searched: fbt B 0.726, C 0.559; complements D via B; "
       "similar B, C; graph A -> via B -> D")

    b.eval("document.getElementById('user').focus()")
    b.send("Input.insertText", {"text": "u1"})
    b.eval("document.querySelector('#user-form button').click()")
    picks = b.wait_for("picks", "(%s).length && %s" % (LIST % "picks",
                                                        LIST % "picks"))
    if not picks[0][0] or any(not p[2].strip() for p in picks):
        raise Fail("picks u1: %r: an entry without item or reason" % picks)
    ok("picks of u1: %d, each with its reason (%s)" %
       (len(picks), picks[0][2].strip()))

    errs = b.errors()
    if errs:
        raise Fail("page errors: %r" % errs)
    png = base64.b64decode(b.send("Page.captureScreenshot",
                                  {"format": "png"})["data"])
    if not png.startswith(b"\x89PNG"):
        raise Fail("screenshot is not a PNG")
    with open(shot, "wb") as f:
        f.write(png)
    ok("no script errors; screenshot %s (%d bytes)" % (shot, len(png)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--xselld", required=True)
    ap.add_argument("--proto", required=True)
    ap.add_argument("--screenshot", default="console.png")
    a = ap.parse_args()

    exe = find_chromium()
    if exe is None:
        print("SKIP no chromium on this machine (Debian: apt-get install "
              "chromium)")
        return 77
    tmp = tempfile.mkdtemp(prefix="xsell-console-test-")
    xs = log = b = None
    try:
        xs, log, port, admin = start_xselld(a.xselld, tmp)
        load_setup(admin, a.proto)
        b = Browser(exe, tmp)
        b.open_page()
        check_console(b, port, os.path.abspath(a.screenshot))
        b.close()
        b = None
        xs.send_signal(signal.SIGTERM)
        if xs.wait(timeout=15) != 0:
            raise Fail("xselld exited with %d" % xs.returncode)
    except (Fail, OSError, ValueError, KeyError) as e:
        print("FAIL " + str(e))
        for name in ("xselld.log", "chromium.log"):
            path = os.path.join(tmp, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    print("---- %s ----\n%s" % (name, f.read()[-3000:]
                                                 .decode("utf-8",
                                                         "replace")))
        return 1
    finally:
        if b is not None:
            b.p.kill()
            b.p.wait()
        if xs is not None and xs.poll() is None:
            xs.kill()
            xs.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

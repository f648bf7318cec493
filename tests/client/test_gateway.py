#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""HTTP/JSON as a client meets it: Debian's python3, urllib only.

The same checks run against the two ways of serving HTTP (proto/HTTP.md):

--mode gateway (the default): xsell-gateway, a process of its own.
Starts xselld on a fresh store with a read and an admin ipc:// endpoint,
and three gateways on 127.0.0.1 with port 0 (each logs the port it got):

- "full": --http and --http-admin, both upstreams;
- "reads": --http only (no admin upstream), --timeout 300,
  --http-max-age 0;
- "dead": an upstream where nothing listens, --timeout 200.

--mode xselld: `xselld --http`, the gateway library inside xselld over
inproc://. Starts two xselld on fresh stores, with port 0:

- "full": --http and --http-admin;
- "reads": --http only (its own store; writes are refused all the same),
  --http-max-age 0.

There is no "dead" upstream in one process, so that check is the
gateway's only; the usage check is xselld's own (its man page, --http
flag errors).

Then checks, one line each (proto/HTTP.md is the contract):

- proto/vectors/setup.json and every vector of proto/vectors, in the
  order of PROTOCOL.md, as POST /v1 JSON bodies to the full gateway
  (read vectors on --http, admin ones on --http-admin): each reply is
  the expected one (the recursive subset rule of PROTOCOL.md) and its
  HTTP status is the one of its error code; and each read vector whose
  request a query string can carry (the rules of proto/HTTP.md, "GET",
  re-implemented here) ALSO as GET /v1/<op>?query: the same status and
  the same JSON answer; each write vector's op over GET: 405, Allow:
  POST;
- GET edge cases: percent-decoding, '+', raw and encoded commas in ids,
  repeated keys, types, filter.*, bad encodings and malformed
  parameters 400, a query over 4096 bytes or 256 parameters 414, write
  ops 405 on both addresses (nothing written), HEAD;
- Cache-Control per class of answer: GET of an item op public,
  max-age=60 (and no-store with --http-max-age 0), picks and history
  private, no-store, everything else (stats, errors, POST, /healthz,
  /metrics, /) no-store;
- a JSON fbt answer worked out by hand, POST /v1/<op> and GET /v1/stats;
- errors and their statuses: bad_request 400, too_large 413, forbidden
  403 (writes on --http, and everywhere on a gateway without an admin
  upstream: the store is unchanged afterwards), malformed JSON 400,
  an oversize body 413 with the connection closed, 404, 405, 411; the
  request's id echoed in the gateway's own errors wherever it was read
  (400 op mismatch and bad query, 403, 413 of msgpack, 503), never
  where it was not;
- GET / is the console page (HTML, with a Content-Security-Policy);
- a stalled body ends with a closed connection; garbage bytes do not
  stop the gateway;
- no xselld: 503 "unavailable", /healthz 503, /metrics says xsell_up 0;
- an upstream that hangs up on each connection before the handshake,
  then an xselld at its address: the gateway reaches it (gateway mode);
- /metrics parses as Prometheus text (0.0.4) and its counters move by
  exactly the requests sent between two scrapes;
- SIGTERM while four clients send requests stops the full server with
  exit code 0, every answer received being whole (200 or 503);
- SIGTERM stops every process with exit code 0.

Usage: test_gateway.py [--mode gateway|xselld] --xselld PATH
                       [--gateway PATH] --proto PROTO_DIR
Exit: 0 pass, 1 fail.
"""

import argparse
import http.client
import json
import math
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from vectors import ANY, Fail, expect, ok, vector_files

STATUS = {"bad_request": 400, "too_large": 413, "forbidden": 403,
          "not_found": 404, "unavailable": 503, "internal": 500,
          "outcome_unknown": 504}


# ---- processes ---------------------------------------------------------------

class Proc:
    """A child whose stderr goes to a file we can read back."""

    def __init__(self, name, argv, tmp):
        self.name = name
        self.log_path = os.path.join(tmp, name + ".log")
        self.log = open(self.log_path, "w+b")
        self.p = subprocess.Popen(argv, stdout=self.log, stderr=self.log)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait()
            raise Fail("%s did not stop within 15 s of SIGTERM" % self.name)


def gateway_ports(proc, want):
    """The ports the gateway logged ("listening on ... port N"), in order:
    the read listener first, then the admin one."""
    deadline = time.time() + 10
    while time.time() < deadline:
        ports = [int(p) for p in re.findall(r"port (\d+)", proc.text())]
        if len(ports) >= want:
            return ports[:want]
        if proc.p.poll() is not None:
            raise Fail("%s exited during start-up:\n%s" %
                       (proc.name, proc.text()))
        time.sleep(0.05)
    raise Fail("%s did not log its ports within 10 s" % proc.name)


# ---- HTTP ----------------------------------------------------------------------

def request(port, method, path, body=None, headers=None, timeout=10):
    """(status, headers, body bytes) of one request on a new connection;
    headers are lower-case, with the reason phrase as ":reason"."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        headers = {k.lower(): v for k, v in r.getheaders()}
        headers[":reason"] = r.reason
        return r.status, headers, r.read()
    finally:
        c.close()


def call(port, path, obj=None, raw=None, method="POST"):
    """POST a JSON body (or raw bytes); (status, headers, decoded JSON)."""
    body = raw if raw is not None else (
        None if obj is None else json.dumps(obj).encode())
    st, hd, data = request(port, method, path, body,
                           {"Content-Type": "application/json"})
    if not hd.get("content-type", "").startswith("application/json"):
        raise Fail("%s %s: content-type %r, body %r" %
                   (method, path, hd.get("content-type"), data[:200]))
    try:
        return st, hd, json.loads(data)
    except ValueError:
        raise Fail("%s %s: body is not JSON: %r" % (method, path, data[:200]))


def want_error(port, path, obj, status, code, raw=None, method="POST",
               rid=ANY):
    """The error 'status' 'code'; and, unless 'rid' is ANY, the request's
    id echoed ('rid'), or no "id" at all (None)."""
    st, hd, got = call(port, path, obj, raw=raw, method=method)
    if st != status or got.get("ok") is not False or \
            got.get("error", {}).get("code") != code:
        raise Fail("%s %s: expected %d %s, got %d %s" %
                   (method, path, status, code, st, json.dumps(got)))
    if rid is not ANY and (("id" in got) if rid is None
                           else got.get("id") != rid):
        raise Fail("%s %s: %d %s: id %s, expected %s" %
                   (method, path, status, code,
                    json.dumps(got.get("id", "(none)")),
                    "none" if rid is None else json.dumps(rid)))
    return hd, got


# ---- the vectors of proto/, over HTTP --------------------------------------

def send_vector(gw, name, endpoint, req, exp):
    port = gw["admin"] if endpoint == "admin" else gw["read"]
    st, _, got = call(port, "/v1", req)
    expect(name, exp, got)
    code = got.get("error", {}).get("code") if got.get("ok") is False \
        else None
    want = STATUS[code] if code else 200
    if st != want:
        raise Fail("%s: HTTP %d for code %s, expected %d" %
                   (name, st, code, want))
    return st, got


# ---- GET /v1/<op>?query: the rules of proto/HTTP.md "GET" --------------------

WRITE_OPS = ("event", "items", "forget_user")
LIST_FIELDS = ("items", "context", "candidates", "filter.exclude",
               "filter.categories", "filter.exclude_categories")
ID_LISTS = ("items", "context", "candidates", "filter.exclude")
STRING_FIELDS = ("user", "category", "scorer", "signal", "kind", "id")
JSON_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?\Z")
QUERY_MAX = 4096


def scalar_text(name, v):
    """The query text that the gateway types back to v, or None."""
    if isinstance(v, str):
        if "\0" in v:
            return None  # refused by the gateway, with its own message
        if name in STRING_FIELDS:
            return v
        if JSON_NUMBER.match(v) or v in ("true", "false"):
            return None  # would be read as a number or a boolean
        return v
    if name in STRING_FIELDS:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) and math.isfinite(v):
        r = repr(v)  # the shortest text that reads back as v
        return r if ("." in r or "e" in r) and JSON_NUMBER.match(r) \
            else None
    return None


def add_params(name, v, out):
    """Append (name, text) pairs for field 'name' = v; False if a query
    string cannot say v (an empty list, nil, a nested map, ...)."""
    if name in LIST_FIELDS:
        if not isinstance(v, list) or not v:
            return False
        for x in v:
            if isinstance(x, str) and "\0" not in x:
                out.append((name, x))
            elif name in ID_LISTS and isinstance(x, int) and \
                    not isinstance(x, bool) and x >= 0:
                out.append((name, str(x)))  # an id: its decimal string
            else:
                return False
        return True
    if isinstance(v, dict):
        if "." in name or not v:
            return False
        return all(add_params(name + "." + k, x, out)
                   for k, x in v.items())
    text = scalar_text(name, v)
    if text is None:
        return False
    out.append((name, text))
    return True


def vector_query(req):
    """(op, query) for GET /v1/<op>?query carrying req, or None."""
    op = req.get("op")
    if not isinstance(op, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", op):
        return None
    pairs = []
    for k, v in req.items():
        if k == "op":
            continue
        if "." in k or not k or not add_params(k, v, pairs):
            return None
    q = urllib.parse.urlencode(pairs)  # quote_plus: a space is '+'
    return (op, q) if len(q) <= QUERY_MAX else None


def get_vector(gw, name, endpoint, req, post):
    """Send the vector's request again as GET; True if it was sent.
    A read answer must be POST's (stats: its expectation, as its
    counters move); a write op must get 405 with Allow: POST."""
    port = gw["admin"] if endpoint == "admin" else gw["read"]
    if req.get("op") in WRITE_OPS:  # whatever the query would be
        st, hd, got = call(port, "/v1/%s" % req["op"], method="GET")
        if st != 405 or hd.get("allow") != "POST" or \
                got["error"]["code"] != "bad_request":
            raise Fail("%s as GET: %d, allow %r, expected 405 and POST" %
                       (name, st, hd.get("allow")))
        return True
    oq = vector_query(req)
    if oq is None:
        return False
    op, q = oq
    st, hd, got = call(port, "/v1/%s?%s" % (op, q), method="GET")
    pst, pgot = post
    if st != pst or (op != "stats" and got != pgot):
        raise Fail("%s as GET /v1/%s?%s:\n  GET  %d %s\n  POST %d %s" %
                   (name, op, q, st, json.dumps(got), pst,
                    json.dumps(pgot)))
    return True


def run_vectors(gw, proto):
    with open(os.path.join(proto, "vectors", "setup.json")) as f:
        setup = json.load(f)
    for i, step in enumerate(setup["steps"]):
        send_vector(gw, "setup step %d" % i, setup["endpoint"],
                    step["request"], step["reply"])
    ok("setup.json through POST /v1 on --http-admin")
    n, reads, writes, skipped = 0, 0, 0, []
    for rel in vector_files(proto):
        with open(os.path.join(proto, rel)) as f:
            vec = json.load(f)
        post = send_vector(gw, rel, vec["endpoint"], vec["request"],
                           vec["reply"])
        n += 1
        if not get_vector(gw, rel, vec["endpoint"], vec["request"], post):
            skipped.append(os.path.basename(rel))
        elif vec["request"].get("op") in WRITE_OPS:
            writes += 1
        else:
            reads += 1
    ok("%d vectors: same replies as the msgpack wire, statuses by code" % n)
    # Most read vectors fit a query: a floor, so that a broken
    # vector_query() cannot pass by skipping them all.
    if reads < 60 or writes < 20:
        raise Fail("only %d read and %d write vectors went as GET" %
                   (reads, writes))
    ok("%d read vectors also as GET /v1/<op>?query: same status and "
       "answer as POST; %d write vectors as GET: 405 Allow: POST; %d not "
       "sayable in a query (%s)" % (reads, writes, len(skipped),
                                    " ".join(skipped)))


# ---- Prometheus text format 0.0.4 --------------------------------------------

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
SAMPLE = re.compile(r"^(%s)(\{(.*)\})? (\S+)$" % NAME)
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_labels(text, line):
    labels, pos = {}, 0
    while pos < len(text):
        m = LABEL.match(text, pos)
        if not m:
            raise Fail("metrics: bad labels in %r" % line)
        labels[m.group(1)] = m.group(2)
        pos = m.end()
    return tuple(sorted(labels.items()))


def parse_metrics(text):
    """{(name, labels): value}; checks TYPE/HELP lines, sample syntax,
    that every sample belongs to a declared family, and histograms."""
    if not text.endswith("\n"):
        raise Fail("metrics: no final newline")
    types, samples = {}, {}
    for line in text.split("\n")[:-1]:
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or not re.fullmatch(NAME, parts[2]) or \
                    parts[3] not in ("counter", "gauge", "histogram",
                                     "summary", "untyped"):
                raise Fail("metrics: bad TYPE line %r" % line)
            if parts[2] in types:
                raise Fail("metrics: %s declared twice" % parts[2])
            types[parts[2]] = parts[3]
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise Fail("metrics: bad line %r" % line)
        name, labels = m.group(1), parse_labels(m.group(3) or "", line)
        value = float(m.group(4))  # also +Inf, NaN
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        if name not in types and types.get(family) != "histogram":
            raise Fail("metrics: %s has no TYPE line before it" % name)
        if (types.get(name) == "counter") != name.endswith("_total") and \
                name in types:
            raise Fail("metrics: counter naming: %s" % name)
        if (name, labels) in samples:
            raise Fail("metrics: %s%s twice" % (name, labels))
        samples[(name, labels)] = value
    for fam, t in types.items():
        if t == "histogram":
            check_histogram(fam, samples)
    return samples


def check_histogram(fam, samples):
    series = {}
    for (name, labels), v in samples.items():
        if name == fam + "_bucket":
            d = dict(labels)
            le = d.pop("le")
            key = tuple(sorted(d.items()))
            series.setdefault(key, []).append((float(le), v))
    for key, buckets in series.items():
        buckets.sort()
        counts = [v for _, v in buckets]
        if counts != sorted(counts) or buckets[-1][0] != math.inf:
            raise Fail("metrics: %s%s buckets not cumulative" % (fam, key))
        if samples.get((fam + "_count", key)) != counts[-1]:
            raise Fail("metrics: %s%s _count is not the +Inf bucket" %
                       (fam, key))


def scrape(port):
    st, hd, data = request(port, "GET", "/metrics")
    if st != 200 or not hd.get("content-type", "").startswith(
            "text/plain; version=0.0.4"):
        raise Fail("/metrics: %d %r" % (st, hd.get("content-type")))
    return parse_metrics(data.decode("utf-8"))


def value(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    if key not in samples:
        raise Fail("metrics: no %s%s" % (name, labels))
    return samples[key]


# ---- the examples of proto/HTTP.md --------------------------------------------

def parse_http_block(text):
    """(first line, {header: value}, body text) of one ```http block."""
    head, _, body = text.partition("\n\n")
    lines = head.split("\n")
    headers = {}
    for h in lines[1:]:
        if not h.strip():
            continue
        k, _, v = h.partition(":")
        headers[k.strip().lower()] = v.strip()
    return lines[0], headers, body.strip()


def http_examples(proto):
    """[(admin?, request block, response block)] from proto/HTTP.md: the
    ```http blocks in pairs; "*admin*" in the prose before a request
    sends it to --http-admin."""
    with open(os.path.join(proto, "HTTP.md"), encoding="utf-8") as f:
        text = f.read()
    blocks = list(re.finditer(r"^```http\n(.*?)^```", text, re.S | re.M))
    if len(blocks) < 2 or len(blocks) % 2:
        raise Fail("HTTP.md: ```http blocks must come in pairs")
    out, pos = [], 0
    for i in range(0, len(blocks), 2):
        prose = text[pos:blocks[i].start()]
        out.append(("*admin*" in prose, parse_http_block(blocks[i].group(1)),
                    parse_http_block(blocks[i + 1].group(1))))
        pos = blocks[i + 1].end()
    return out


def run_http_examples(gw, proto):
    examples = http_examples(proto)
    for n, (admin, (line, hdrs, body), (status, rhdrs, rbody)) in \
            enumerate(examples, 1):
        method, path, _ = line.split(" ")
        name = "HTTP.md example %d (%s %s)" % (n, method, path)
        data = body.encode() if body else None
        if body == '{"items": "<101 ids>"}':
            data = json.dumps({"items": ["i%d" % i
                                         for i in range(101)]}).encode()
        st, got_hdrs, got = request(gw["admin"] if admin else gw["read"],
                                    method, path, data, hdrs)
        _, code, reason = status.split(" ", 2)
        if st != int(code) or got_hdrs[":reason"] != reason:
            raise Fail("%s: HTTP %d %s, expected %s %s" %
                       (name, st, got_hdrs[":reason"], code, reason))
        for k, v in rhdrs.items():
            if got_hdrs.get(k) != v:
                raise Fail("%s: %s: %r, expected %r" %
                           (name, k, got_hdrs.get(k), v))
        expect(name, json.loads(rbody), json.loads(got))
    ok("%d examples of proto/HTTP.md" % len(examples))


# ---- checks --------------------------------------------------------------------

def help_names_man_options(binary, man):
    """The options the man page 'man' lists (.B or .BI lines), after
    checking that 'binary' --help exits 0 and names each of them."""
    with open(man, encoding="utf-8") as f:
        opts = set(re.findall(r"^\.B[I]? (\\-\\-[a-z\\-]+)", f.read(), re.M))
    opts = {o.replace("\\", "") for o in opts}
    r = subprocess.run([binary, "--help"], capture_output=True, text=True,
                       timeout=10)
    missing = [o for o in sorted(opts) if o not in r.stdout]
    if r.returncode != 0 or missing:
        raise Fail("%s --help: exit %d, options of the man page missing: "
                   "%s" % (os.path.basename(binary), r.returncode, missing))
    return opts


def check_usage(gateway, proto):
    """--help names every option of the man page; usage errors exit 2."""
    opts = help_names_man_options(
        gateway, os.path.join(proto, "..", "tools", "xsell-gateway.1"))
    if len(opts) < 10:
        raise Fail("xsell-gateway.1 lists only %d options" % len(opts))
    for argv in (["--http", "127.0.0.1:0"], ["--bogus"],
                 ["--http", "127.0.0.1:0", "--upstream", "ipc:///x",
                  "--http-admin", "127.0.0.1:0"],
                 ["--http", "127.0.0.1:0", "--upstream", "ipc:///x",
                  "--pool", "0"],
                 ["--http", "127.0.0.1:0", "--upstream", "ipc:///x",
                  "--http-max-age", "86401"]):
        r = subprocess.run([gateway] + argv, capture_output=True,
                           timeout=10)
        if r.returncode != 2:
            raise Fail("%s: exit %d, expected 2" % (argv, r.returncode))
    ok("--help names the %d options of xsell-gateway.1; usage errors "
       "exit 2" % len(opts))


def check_usage_xselld(xselld, proto, tmp):
    """xselld --help names every option of xselld.1, --http ones too;
    --http flag errors exit 2, an address that cannot be served 1."""
    opts = help_names_man_options(
        xselld, os.path.join(proto, "..", "src", "server", "xselld.1"))
    if "--http-admin" not in opts:
        raise Fail("xselld.1 does not list --http-admin")
    db = os.path.join(tmp, "usage-db")
    taken = socket.socket()  # a port in use
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    busy = "127.0.0.1:%d" % taken.getsockname()[1]
    try:
        for argv, want in (
                (["--http-admin", "127.0.0.1:0"], 2),
                (["--http"], 2),
                (["--http", "ftp://127.0.0.1:0"], 1),
                (["--http", busy], 1),
                (["--http", "127.0.0.1:0", "--http-admin", busy], 1),
                (["--http", "127.0.0.1:0", "--http-max-age", "x"], 2)):
            r = subprocess.run([xselld, "--db", db] + argv,
                               capture_output=True, timeout=10)
            if r.returncode != want:
                raise Fail("xselld %s: exit %d, expected %d" %
                           (argv, r.returncode, want))
    finally:
        taken.close()
    ok("xselld --help names the %d options of xselld.1; --http usage "
       "errors exit 2, bad addresses 1" % len(opts))


def check_answers(gw):
    # From setup.json alone (fbt vectors do not write): N_A = 4,
    # N_AB = 3, N_AC = 2, N_AE = 1, E out of stock; confidence N_ab/N_a
    # (named: the default scorer is the server's to choose).
    st, hd, got = call(gw["read"], "/v1/fbt",
                       {"items": ["A"], "k": 5, "scorer": "confidence"})
    expect("fbt A", {"ok": True, "items": [
        {"item": "B", "score": 0.75}, {"item": "C", "score": 0.5}],
        "unknown": []}, got)
    if st != 200 or hd.get("cache-control") != "no-store":
        raise Fail("fbt A: %d, cache-control %r" %
                   (st, hd.get("cache-control")))
    # count scorer, cart A+B: C 2+1, D 0+1, E out of stock.
    st, _, got = call(gw["read"], "/v1", {"op": "fbt", "items": ["A", "B"],
                                          "scorer": "count", "id": 7})
    expect("fbt cart", {"ok": True, "id": 7, "items": [
        {"item": "C", "score": 3}, {"item": "D", "score": 1}]}, got)
    st, _, got = call(gw["read"], "/v1/stats", method="GET")
    expect("GET /v1/stats", {"ok": True, "counts": ANY}, got)
    ok("JSON answers: POST /v1/fbt, POST /v1 with op, GET /v1/stats")

    # One keep-alive connection: answers and errors that leave no body
    # unread keep it open, and each reply is the one of its request.
    c = http.client.HTTPConnection("127.0.0.1", gw["read"], timeout=10)
    want = [(b'{"items":["A"],"k":1}', 200, "B"), (b'{"items":', 400, None),
            (b'{"items":["B"],"k":1}', 200, "A"), (b"", 400, None),
            (b'{"items":["C"],"k":1}', 200, "A")]
    for body, status, first in want:
        c.request("POST", "/v1/fbt", body)
        r = c.getresponse()
        got = json.loads(r.read())
        if r.status != status or (first and got["items"][0]["item"] != first):
            raise Fail("keep-alive: %r -> %d %s" % (body, r.status, got))
    c.request("GET", "/healthz")
    if c.getresponse().status != 200:
        raise Fail("keep-alive: /healthz")
    c.close()
    ok("keep-alive: 6 requests and errors on one connection")


def events_count(port):
    return call(port, "/v1/stats", method="GET")[2]["counts"]["events"]


def check_errors(gw, reads_only):
    p = gw["read"]
    want_error(p, "/v1/fbt", {"items": ["A"], "k": 0}, 400, "bad_request")
    want_error(p, "/v1/fbt", {"items": ["i%d" % i for i in range(101)]},
               413, "too_large")
    want_error(p, "/v1/fbt", None, 400, "bad_request",
               raw=b'{"items": ["A"],')
    want_error(p, "/v1/fbt", None, 400, "bad_request", raw=b'["A"]')
    want_error(p, "/v1/fbt", None, 400, "bad_request",
               raw=b'{"items":["A"],"items":["B"]}')
    want_error(p, "/v1/fbt", {"op": "stats"}, 400, "bad_request")
    ok("bad_request 400 (k, malformed JSON, not an object, duplicate key, "
       "op mismatch), too_large 413")

    # The gateway's own errors echo the id whenever the request was read
    # as far as it, as xselld's do: an op mismatch, a write on --http, a
    # request whose msgpack is over the endpoint's 64 KiB (1e3 is 4 bytes
    # of JSON, 9 of msgpack: 45 KiB of body); not malformed JSON, nor an
    # oversize body that was never read.
    want_error(p, "/v1/fbt", {"op": "stats", "id": "g-1"}, 400,
               "bad_request", rid="g-1")
    want_error(p, "/v1/event", {"id": {"n": [1, 0.5]}, "events": []}, 403,
               "forbidden", rid={"n": [1, 0.5]})
    big = b'{"id": 7, "items": [' + b",".join([b"1e3"] * 11500) + b"]}"
    want_error(p, "/v1/fbt", None, 413, "too_large", raw=big, rid=7)
    want_error(p, "/v1/fbt", None, 400, "bad_request",
               raw=b'{"id": "g-2", "items": [', rid=None)
    want_error(p, "/v1/fbt", None, 413, "too_large",
               raw=b'{"id": "g-3"}' + b" " * (64 * 1024), rid=None)
    ok("the gateway's own errors echo the id it read (400 op mismatch, "
       "403, 413 of msgpack), none where it read none")

    before = events_count(p)
    write = {"op": "event", "events": [
        {"type": "view", "user": "gw-u", "item": "gw-i"}]}
    want_error(p, "/v1", write, 403, "forbidden")
    want_error(reads_only, "/v1/event", write, 403, "forbidden")
    want_error(reads_only, "/v1", {"op": "items", "items": []}, 403,
               "forbidden")
    if events_count(p) != before:
        raise Fail("a refused write changed the store")
    st, _, got = call(gw["admin"], "/v1", write)
    if st != 200 or events_count(p) != before + 1:
        raise Fail("write on --http-admin: %d %s" % (st, json.dumps(got)))
    ok("writes: 403 on --http and without an admin upstream, 200 on "
       "--http-admin")

    hd, _ = want_error(p, "/v1/fbt", None, 413, "too_large",
                       raw=b" " * (64 * 1024 + 1))
    if hd.get("connection") != "close":
        raise Fail("413: the unread body must close the connection")
    want_error(p, "/nope", {}, 404, "not_found")
    st, hd, page = request(p, "GET", "/")
    if st != 200 or hd.get("content-type") != "text/html; charset=utf-8" \
            or b"<title>xsell console</title>" not in page or \
            "default-src 'none'" not in hd.get("content-security-policy",
                                               ""):
        raise Fail("GET /: %d %r %r" % (st, hd, page[:80]))
    want_error(p, "/", None, 405, "bad_request", raw=b"{}")
    hd, _ = want_error(p, "/metrics", None, 405, "bad_request",
                       method="DELETE")
    if "GET" not in hd.get("allow", ""):
        raise Fail("405 without Allow: %r" % hd)
    want_error(p, "/v1/fbt", None, 405, "bad_request", method="PUT")
    st, _, _ = request(p, "POST", "/v1/fbt", body=iter([b'{"items":["A"]}']),
                       headers={"Transfer-Encoding": "chunked"})
    if st != 411:
        raise Fail("chunked body: %d, expected 411" % st)
    ok("oversize body 413 (connection closed), 404, 405 with Allow, "
       "chunked 411; GET / is the console page, POST / 405")


def check_get(gw, reads_only):
    """GET /v1/<op>?query: decoding, lists, types and bounds, worked out
    by hand; the vectors compared GET with POST already."""
    p, a = gw["read"], gw["admin"]
    # An order of two ids that need encoding: "Q,1" and "Q 2+".
    st, _, got = call(a, "/v1/event", {"events": [
        {"type": "order", "order": "gq-o1", "ts": 1700000000,
         "items": ["Q,1", "Q 2+"]}]})
    if st != 200 or got.get("applied") != 1:
        raise Fail("GET setup order: %d %s" % (st, json.dumps(got)))
    for query, other in (("items=Q%2C1", "Q 2+"), ("items=Q,1", "Q 2+"),
                         ("items=Q+2%2B", "Q,1"), ("items=Q%202%2b", "Q,1"),
                         ("%69tems=Q%2C1", "Q 2+")):
        st, _, got = call(p, "/v1/fbt?scorer=count&" + query, method="GET")
        expect("GET fbt?" + query, {"ok": True, "items": [
            {"item": other, "score": 1}], "unknown": []}, got)
    # Ids holding the query's own syntax: %, &, =, # reach the gateway
    # encoded (nng passes the request line as it came) and are decoded
    # once, after the split.
    st, _, got = call(a, "/v1/event", {"events": [
        {"type": "order", "order": "gq-o2", "ts": 1700000000,
         "items": ["100%", "a&b=c", "x#y"]}]})
    if st != 200 or got.get("applied") != 1:
        raise Fail("GET setup order 2: %d %s" % (st, json.dumps(got)))
    for query, others in (("items=100%25", ["a&b=c", "x#y"]),
                          ("items=a%26b%3Dc", ["100%", "x#y"]),
                          ("items=x%23y", ["100%", "a&b=c"])):
        st, _, got = call(p, "/v1/fbt?scorer=count&" + query, method="GET")
        expect("GET fbt?" + query, {"ok": True, "items": [
            {"item": o, "score": 1} for o in others], "unknown": []}, got)
    # Repeated keys are a cart: A+B with count, C 2+1, D 0+1 (E is out
    # of stock); explain=true is a boolean: count N_AB = 3.
    st, _, got = call(p, "/v1/fbt?items=A&items=B&scorer=count",
                      method="GET")
    expect("GET cart", {"ok": True, "items": [
        {"item": "C", "score": 3}, {"item": "D", "score": 1}],
        "unknown": []}, got)
    st, _, got = call(p, "/v1/fbt?items=A&scorer=count&explain=true&k=1",
                      method="GET")
    expect("GET explain", {"ok": True, "items": [
        {"item": "B", "score": 3, "count": 3}]}, got)
    # filter.*: E (out of stock, N_AE = 1) comes back with in_stock
    # false; B and C are excluded, as the list repeats.
    st, _, got = call(p, "/v1/fbt?items=A&scorer=count&filter.in_stock="
                      "false&filter.exclude=B&filter.exclude=C",
                      method="GET")
    expect("GET filter", {"ok": True, "items": [
        {"item": "E", "score": 1}], "unknown": []}, got)
    # Typed as a JSON body would be: k=1.0 is a float, k=x a string;
    # xselld's answers, the same as POST's.
    for q, body in (("k=1.0", {"k": 1.0}), ("k=x", {"k": "x"}),
                    ("k=0", {"k": 0}), ("", {})):
        gst, _, g = call(p, "/v1/fbt?" + q, method="GET")
        pst, _, pg = call(p, "/v1/fbt", body)
        if gst != 400 or (gst, g) != (pst, pg):
            raise Fail("GET fbt?%s: %d %s, POST %d %s" %
                       (q, gst, json.dumps(g), pst, json.dumps(pg)))
    ok("GET: %2C, raw commas, '+', %20, %25, %26, %3D, %23 decoded; "
       "repeated keys a "
       "list; explain=true, filter.*; typed as POST bodies (k=1.0, k=x)")

    for q in ("items=%G1", "items=A%", "items=%4", "items=%FF",
              "items=A%00", "items=A&explain", "items=A&k=1&k=2",
              "items=A&filter=1&filter.in_stock=false",
              "items=A&filter.x.y=1", "=A", "k=1e999"):
        want_error(p, "/v1/fbt?" + q, None, 400, "bad_request",
                   method="GET")
    _, got = want_error(p, "/v1/fbt?items=%ZZ", None, 400, "bad_request",
                        method="GET")
    if "percent-encoding at byte 6" not in got["error"]["message"]:
        raise Fail("bad encoding: %s" % got["error"]["message"])
    # 4096 bytes of query: taken (the id comes back); 4097 and 257
    # parameters: 414 too_large.
    long_id = "a" * (QUERY_MAX - 3)
    st, _, got = call(p, "/v1/stats?id=" + long_id, method="GET")
    if st != 200 or got.get("id") != long_id:
        raise Fail("4096-byte query: %d" % st)
    hd, _ = want_error(p, "/v1/stats?id=" + long_id + "a", None, 414,
                       "too_large", method="GET")
    if hd[":reason"] != "URI Too Long":
        raise Fail("414 reason %r" % hd[":reason"])
    want_error(p, "/v1/fbt?" + "&".join(["items=A"] * 257), None, 414,
               "too_large", method="GET")
    # The id of a refused query, when read before the refused parameter.
    want_error(p, "/v1/fbt?id=q-1&items=A&k=1&k=2", None, 400,
               "bad_request", method="GET", rid="q-1")
    want_error(p, "/v1/fbt?items=A&k=1&k=2&id=q-1", None, 400,
               "bad_request", method="GET", rid=None)
    want_error(p, "/v1/event?id=q-2", None, 405, "bad_request",
               method="GET", rid=None)
    ok("GET: bad percent-encoding, invalid UTF-8, NUL, no '=', a repeated "
       "scalar, value and map, a.b.c 400; 4096 bytes taken, 4097 bytes "
       "or 257 parameters 414")

    before = events_count(p)
    for port in (p, a, reads_only):
        for path in ("/v1/event", "/v1/items", "/v1/forget_user?user=u1",
                     "/v1/event?events=x", "/v1"):
            for method in ("GET", "HEAD"):
                st, hd, _ = request(port, method, path)
                if st != 405 or hd.get("allow") != "POST":
                    raise Fail("%s %s: %d allow %r, expected 405 POST" %
                               (method, path, st, hd.get("allow")))
    if events_count(p) != before:
        raise Fail("a GET of a write op changed the store")
    _, hd, _ = request(p, "PUT", "/v1/fbt")
    if hd.get("allow") != "GET, HEAD, POST":
        raise Fail("PUT /v1/fbt: allow %r" % hd.get("allow"))
    st, hd, body = request(p, "HEAD", "/v1/fbt?items=A")
    if st != 200 or body or hd.get("cache-control") != \
            "public, max-age=60":
        raise Fail("HEAD /v1/fbt: %d %r %r" % (st, hd, body[:40]))
    ok("GET and HEAD of event, items, forget_user, /v1: 405 Allow: POST "
       "on every address, nothing written; HEAD of a read op 200")


def check_cache_control(gw, reads_only):
    """Cache-Control by class of answer (proto/HTTP.md, "Caching")."""
    p = gw["read"]
    public = "public, max-age=60"
    private = "private, no-store"
    cases = [
        ("GET", "/v1/fbt?items=A", None, 200, public),
        ("GET", "/v1/complements?items=A", None, 200, public),
        ("GET", "/v1/similar?items=A", None, 200, public),
        ("GET", "/v1/viewed_bought?items=A", None, 200, public),
        ("GET", "/v1/trending", None, 200, public),
        ("GET", "/v1/picks?user=u1", None, 200, private),
        ("GET", "/v1/history?user=u1", None, 200, private),
        ("GET", "/v1/stats", None, 200, "no-store"),
        ("GET", "/v1/fbt?items=A&k=0", None, 400, "no-store"),
        ("GET", "/v1/history", None, 400, "no-store"),
        ("GET", "/v1/nope", None, 400, "no-store"),
        ("POST", "/v1/fbt", b'{"items":["A"]}', 200, "no-store"),
        ("POST", "/v1/picks", b'{"user":"u1"}', 200, "no-store"),
        ("GET", "/healthz", None, 200, "no-store"),
        ("GET", "/metrics", None, 200, "no-store"),
        ("GET", "/", None, 200, "no-store"),
        ("GET", "/v2", None, 404, "no-store"),
    ]
    for method, path, body, status, cc in cases:
        st, hd, _ = request(p, method, path, body)
        if st != status or hd.get("cache-control") != cc:
            raise Fail("%s %s: %d cache-control %r, expected %d %r" %
                       (method, path, st, hd.get("cache-control"), status,
                        cc))
    # --http-max-age 0: nothing is for caches.
    for path in ("/v1/fbt?items=A", "/v1/trending", "/v1/picks?user=u1"):
        st, hd, _ = request(reads_only, "GET", path)
        want = "private, no-store" if "picks" in path else "no-store"
        if st != 200 or hd.get("cache-control") != want:
            raise Fail("--http-max-age 0: GET %s: %d %r" %
                       (path, st, hd.get("cache-control")))
    ok("Cache-Control: GET of item ops public, max-age=60 (no-store with "
       "--http-max-age 0); picks, history private, no-store; stats, "
       "errors, POST, /healthz, /metrics, / no-store")


def check_hostile(gw, reads_only):
    # A body that never comes: the gateway (--timeout 300) closes.
    s = socket.create_connection(("127.0.0.1", reads_only), timeout=10)
    s.sendall(b"POST /v1/fbt HTTP/1.1\r\nHost: x\r\n"
              b"Content-Length: 100\r\n\r\n{")
    try:
        if s.recv(100) != b"":
            raise Fail("stalled body: got an answer, expected a close")
    except socket.timeout:
        raise Fail("stalled body: connection still open after 10 s")
    s.close()
    rnd = random.Random(7)
    for _ in range(200):
        with socket.create_connection(("127.0.0.1", gw["read"])) as s:
            s.sendall(bytes(rnd.getrandbits(8)
                            for _ in range(rnd.randint(1, 300))))
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            try:
                while s.recv(4096):
                    pass
            except (socket.timeout, ConnectionResetError):
                pass
    for body in (b"\xff\xfe", b'{"items":["\xc3"]}', b"{" * 5000,
                 b'{"items":[' + b"[" * 3000 + b"]" * 3000 + b"]}",
                 b'{"k":1e400}', b'{"items":[-1]}'):
        st, _, _ = request(gw["read"], "POST", "/v1/fbt", body)
        if st not in (400, 413):
            raise Fail("body %r: %d" % (body[:20], st))
    st, _, _ = request(gw["read"], "GET", "/healthz")
    if st != 200:
        raise Fail("after garbage: /healthz %d" % st)
    ok("stalled body closed; 200 random byte strings and hostile JSON "
       "bodies; the gateway still answers")


def check_dead(dead):
    want_error(dead, "/v1/fbt", {"items": ["A"], "id": "d-1"}, 503,
               "unavailable", rid="d-1")
    st, _, got = call(dead, "/healthz", method="GET")
    if st != 503:
        raise Fail("/healthz without xselld: %d" % st)
    m = scrape(dead)
    if value(m, "xsell_up") != 0 or value(
            m, "xsell_gateway_upstream_failures_total", upstream="read",
            reason="unavailable") < 3:
        raise Fail("dead upstream: xsell_up/failures not counted")
    ok("no xselld: 503 unavailable, /healthz 503, xsell_up 0")


def check_metrics(gw):
    p = gw["read"]
    m0 = scrape(p)
    if value(m0, "xsell_up") != 1:
        raise Fail("xsell_up is not 1")
    # Exactly these between the two scrapes: 3 valid fbt (counted by
    # xselld), 1 refused while decoding (k=0: counted under no op by
    # xselld, but a 400 fbt answer for the gateway); and fbt requests
    # the gateway refuses itself, counted under the op of their path:
    # malformed JSON, a bad query (400), a body over the limit (413),
    # and a write op over GET (405).
    for items in (["A"], ["B"], ["A", "C"]):
        call(p, "/v1/fbt", {"items": items})
    call(p, "/v1/fbt", {"items": ["A"], "k": 0})
    want_error(p, "/v1/fbt", None, 400, "bad_request", raw=b'{"items":')
    want_error(p, "/v1/fbt?items=%ZZ", None, 400, "bad_request",
               method="GET")
    want_error(p, "/v1/fbt", None, 413, "too_large",
               raw=b" " * (64 * 1024 + 1))
    want_error(p, "/v1/event", None, 405, "bad_request", method="GET")
    m1 = scrape(p)

    def delta(name, **labels):
        return value(m1, name, **labels) - value(m0, name, **labels)

    def delta_new(name, **labels):  # a pair perhaps absent from m0
        key = (name, tuple(sorted(labels.items())))
        return value(m1, name, **labels) - m0.get(key, 0)

    checks = [
        (delta("xsell_requests_total", op="fbt"), 3),
        (delta("xsell_request_errors_total", op="fbt"), 0),
        (delta("xsell_requests_total", op="stats"), 1),  # the 2nd scrape
        (delta("xsell_gateway_op_responses_total", op="fbt", code="200"),
         3),
        (delta_new("xsell_gateway_op_responses_total", op="fbt",
                   code="400"), 3),
        (delta_new("xsell_gateway_op_responses_total", op="fbt",
                   code="413"), 1),
        (delta_new("xsell_gateway_op_responses_total", op="event",
                   code="405"), 1),
        (delta("xsell_gateway_upstream_duration_seconds_count", op="fbt"),
         4),
    ]
    for i, (got, want) in enumerate(checks):
        if got != want:
            raise Fail("metrics check %d: moved by %r, expected %r" %
                       (i, got, want))
    counts = call(p, "/v1/stats", method="GET")[2]["counts"]
    if value(m1, "xsell_events_total") != counts["events"] or \
            value(m1, "xsell_items") != counts["items"]:
        raise Fail("metrics: events/items differ from stats")
    for name in ("xsell_store_used_bytes", "xsell_store_map_used_ratio",
                 "xsell_uptime_seconds", "xsell_store_readers_used"):
        value(m1, name)
    if not 0 <= value(m1, "xsell_store_free_bytes") <= \
            value(m1, "xsell_store_used_bytes"):
        raise Fail("metrics: free bytes outside the bytes in use")
    # stats' connections, by kind: xselld's default limit, the gateway's
    # own connection open, nothing refused, waiting or muted in this
    # quiet test.
    if value(m1, "xsell_connections_max", kind="read") != 512 or \
            value(m1, "xsell_connections_open", kind="read") < 1 or \
            value(m1, "xsell_connections_refused_total", kind="read") != 0 \
            or value(m1, "xsell_connections_muted_total", kind="read") != 0 \
            or value(m1, "xsell_connections_waiting", kind="read") != 0:
        raise Fail("metrics: connections of the read endpoint")
    # complements' list refresher runs in every xselld; no --wal here,
    # so no log metrics.
    for name in ("xsell_complements_lists_items",
                 "xsell_complements_lists_due",
                 "xsell_complements_lists_computed_total"):
        if value(m1, name) < 0:
            raise Fail("metrics: %s below 0" % name)
    if any(k[0].startswith("xsell_wal_") for k in m1):
        raise Fail("metrics: xsell_wal_* without --wal")
    # stats.pull, from an xselld with --pull only: each counter, 0 here
    # (nothing is pushed), and the pull endpoints' connections.
    pulls = [k[0] for k in m1 if k[0].startswith("xsell_pull_")]
    if gw.get("pull"):
        for name in ("messages", "applied", "events", "duplicates",
                     "rejected", "refused", "failed"):
            if value(m1, "xsell_pull_%s_total" % name) != 0:
                raise Fail("metrics: xsell_pull_%s_total is not 0" % name)
        if value(m1, "xsell_connections_max", kind="pull") != 512:
            raise Fail("metrics: connections of the pull endpoint")
    elif pulls:
        raise Fail("metrics: %s without --pull" % pulls[0])
    ok("/metrics: valid Prometheus text; counters moved by exactly the "
       "requests sent")


def start_gateways(a, tmp, procs):
    """xselld on ipc:// and the three gateways; (gw, reads port, dead
    port)."""
    read_url = "ipc://%s/read.sock" % tmp
    admin_url = "ipc://%s/admin.sock" % tmp
    procs.append(Proc("xselld", [a.xselld, "--db", tmp + "/db",
                                 "--listen", read_url, "--admin",
                                 admin_url, "--pull",
                                 "ipc://%s/pull.sock" % tmp], tmp))
    full = Proc("gw-full", [a.gateway, "--http", "127.0.0.1:0",
                            "--upstream", read_url, "--http-admin",
                            "127.0.0.1:0", "--admin-upstream",
                            admin_url], tmp)
    reads = Proc("gw-reads", [a.gateway, "--http", "127.0.0.1:0",
                              "--upstream", read_url, "--timeout",
                              "300", "--http-max-age", "0"], tmp)
    dead = Proc("gw-dead", [a.gateway, "--http", "127.0.0.1:0",
                            "--upstream", "ipc://%s/none.sock" % tmp,
                            "--timeout", "200"], tmp)
    procs += [full, reads, dead]
    ports = gateway_ports(full, 2)
    gw = {"read": ports[0], "admin": ports[1], "proc": full, "pull": True}
    return gw, gateway_ports(reads, 1)[0], gateway_ports(dead, 1)[0]


def start_xselld_http(a, tmp, procs):
    """Two xselld serving HTTP themselves; (gw, reads port, None)."""
    full = Proc("xselld-http", [a.xselld, "--db", tmp + "/db", "--http",
                                "127.0.0.1:0", "--http-admin",
                                "127.0.0.1:0"], tmp)
    reads = Proc("xselld-http-reads", [a.xselld, "--db", tmp + "/db-reads",
                                       "--http", "127.0.0.1:0",
                                       "--http-max-age", "0"], tmp)
    procs += [full, reads]
    ports = gateway_ports(full, 2)
    gw = {"read": ports[0], "admin": ports[1], "proc": full}
    return gw, gateway_ports(reads, 1)[0], None


def check_ipv6_port(a, tmp, procs):
    """An HTTP address on [::1] port 0 logs the port it got, as on
    127.0.0.1 (skipped where ::1 cannot be bound)."""
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
    except OSError as e:
        ok("IPv6 port 0: skipped, ::1 cannot be bound (%s)" % e)
        return
    if a.mode == "gateway":
        argv = [a.gateway, "--http", "[::1]:0", "--upstream",
                "ipc://%s/read.sock" % tmp]
    else:
        argv = [a.xselld, "--db", tmp + "/db-v6", "--http", "[::1]:0"]
    proc = Proc("http-v6", argv, tmp)
    procs.append(proc)
    port = gateway_ports(proc, 1)[0]
    if port == 0:
        raise Fail("[::1]:0 logged port 0, not the port it listens on:\n"
                   + proc.text())
    for _ in range(100):
        c = http.client.HTTPConnection("::1", port, timeout=10)
        try:
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        finally:
            c.close()
        time.sleep(0.1)
    else:
        raise Fail("[::1]:%d: /healthz did not turn 200 within 10 s" % port)
    ok("[::1]:0 logs the port it listens on (%d), which answers" % port)


def check_reconnect_after_hang_ups(a, tmp, procs):
    """An upstream that hangs up during the handshake, then an xselld at
    its address: the gateway connects once it is there. libnng 1.5.2
    ended a dialer's reconnects for good when the server hung up before
    the client's SP header (src/common/nng_epipe.c)."""
    path = os.path.join(tmp, "late.sock")
    fake = socket.socket(socket.AF_UNIX)
    fake.bind(path)
    fake.listen(16)
    fake.settimeout(0.1)
    late = Proc("gw-late", [a.gateway, "--http", "127.0.0.1:0",
                            "--upstream", "ipc://" + path, "--pool", "2",
                            "--timeout", "300"], tmp)
    procs.append(late)
    port = gateway_ports(late, 1)[0]
    hung_up, deadline = 0, time.time() + 5
    try:
        while hung_up < 4 and time.time() < deadline:
            try:
                conn, _ = fake.accept()
            except socket.timeout:
                continue
            conn.close()
            hung_up += 1
    finally:
        fake.close()
    if hung_up == 0:
        raise Fail("gw-late never dialled its upstream")
    os.unlink(path)
    procs.append(Proc("xselld-late", [a.xselld, "--db", tmp + "/db-late",
                                      "--listen", "ipc://" + path], tmp))
    for _ in range(100):
        if request(port, "GET", "/healthz")[0] == 200:
            break
        time.sleep(0.1)
    else:
        raise Fail("gw-late did not reach the xselld that came after %d "
                   "hang-ups within 10 s" % hung_up)
    ok("an upstream hanging up during the handshake (%d times), then "
       "xselld: the gateway connects" % hung_up)


def check_stop_under_load(proc, port):
    """SIGTERM while four clients keep fbt requests coming: the process
    exits 0, and every answer that arrived is whole, 200 or 503."""
    bad, answered, started = [], [0], threading.Event()  # under lock
    lock = threading.Lock()

    def client():
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            while True:
                c.request("POST", "/v1/fbt", b'{"items":["A"],"k":3}')
                r = c.getresponse()
                body = json.loads(r.read())
                with lock:
                    answered[0] += 1
                    if r.status not in (200, 503) or "ok" not in body:
                        bad.append((r.status, body))
                started.set()
        except (OSError, http.client.HTTPException):
            return  # the server went away: expected
        except ValueError as e:
            bad.append(("not JSON", str(e)))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    if not started.wait(10):
        raise Fail("stop under load: no answer within 10 s")
    for _ in range(100):  # let some load build up (at most 1 s)
        with lock:
            if answered[0] >= 100:
                break
        time.sleep(0.01)
    rc = proc.stop()
    for t in threads:
        t.join(20)
    if rc != 0 or bad:
        raise Fail("stop under load: exit %d, bad answers %r" %
                   (rc, bad[:3]))
    ok("SIGTERM under load: exit 0 after %d answers, each 200 or 503" %
       answered[0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=("gateway", "xselld"),
                    default="gateway")
    ap.add_argument("--xselld", required=True)
    ap.add_argument("--gateway")
    ap.add_argument("--proto", required=True)
    ap.add_argument("--keep", action="store_true")
    a = ap.parse_args()
    if a.mode == "gateway" and not a.gateway:
        ap.error("--mode gateway needs --gateway")

    tmp = tempfile.mkdtemp(prefix="xsell-gw-test-")
    procs = []
    try:
        if a.mode == "gateway":
            check_usage(a.gateway, a.proto)
            gw, reads_port, dead_port = start_gateways(a, tmp, procs)
        else:
            check_usage_xselld(a.xselld, a.proto, tmp)
            gw, reads_port, dead_port = start_xselld_http(a, tmp, procs)
        for _ in range(100):  # xselld up? (it starts in parallel)
            if request(gw["read"], "GET", "/healthz")[0] == 200 and \
                    request(reads_port, "GET", "/healthz")[0] == 200:
                break
            time.sleep(0.1)
        else:
            raise Fail("/healthz did not turn 200 within 10 s")
        ok("%d processes up (%s; ports %d %d %d%s)" %
           (len(procs), a.mode, gw["read"], gw["admin"], reads_port,
            "" if dead_port is None else " %d" % dead_port))

        run_vectors(gw, a.proto)
        run_http_examples(gw, a.proto)
        check_answers(gw)
        check_errors(gw, reads_port)
        check_get(gw, reads_port)
        check_cache_control(gw, reads_port)
        check_hostile(gw, reads_port)
        if dead_port is not None:
            check_dead(dead_port)
        check_metrics(gw)
        check_ipv6_port(a, tmp, procs)
        if a.mode == "gateway":
            check_reconnect_after_hang_ups(a, tmp, procs)
        check_stop_under_load(gw["proc"], gw["read"])
        for p in reversed(procs):
            rc = p.stop()
            if rc != 0:
                raise Fail("%s exited with %d after SIGTERM" % (p.name, rc))
        ok("SIGTERM: every process exited with 0")
    except (Fail, OSError, ValueError, KeyError,
            http.client.HTTPException) as e:
        print("FAIL " + str(e))
        for p in procs:
            print("---- %s log ----\n%s" % (p.name, p.text()[-3000:]))
        return 1
    finally:
        # Whatever happened, no child outlives the test.
        for p in procs:
            if p.p.poll() is None:
                p.p.kill()
                p.p.wait()
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())

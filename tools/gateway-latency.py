#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Latency of xsell-gateway as one keep-alive HTTP client sees it.

Sends N POST /v1/fbt requests (or, with --method GET, the same request
as GET /v1/fbt?items=...&k=10), one at a time, on one keep-alive
connection (Debian python3, http.client), and prints the percentiles of
the whole round trip next to the gateway's own view of the same
requests: the mean of xsell_gateway_upstream_duration_seconds{op="fbt"}
over the run, i.e. the gateway -> xselld -> gateway part.

Usage: gateway-latency.py --port PORT [--n 2000] [--items ID,ID...]
                          [--method POST|GET]
"""

import argparse
import http.client
import json
import re
import time
import urllib.parse


def fbt_histogram(conn):
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    s = re.search(r'^xsell_gateway_upstream_duration_seconds_sum'
                  r'\{op="fbt"\} (\S+)$', text, re.M)
    c = re.search(r'^xsell_gateway_upstream_duration_seconds_count'
                  r'\{op="fbt"\} (\S+)$', text, re.M)
    return float(s.group(1)), float(c.group(1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--items", default="22697")
    ap.add_argument("--method", choices=("POST", "GET"), default="POST")
    a = ap.parse_args()

    conn = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    items = a.items.split(",")
    path, body, hdr = "/v1/fbt", json.dumps(
        {"items": items, "k": 10}).encode(), {
        "Content-Type": "application/json"}
    if a.method == "GET":
        path = "/v1/fbt?" + urllib.parse.urlencode(
            [("items", i) for i in items] + [("k", 10)])
        body, hdr = None, {}
    for _ in range(50):  # warm up
        conn.request(a.method, path, body, hdr)
        conn.getresponse().read()
    sum0, n0 = fbt_histogram(conn)
    lat = []
    t_start = time.perf_counter()
    for _ in range(a.n):
        t = time.perf_counter()
        conn.request(a.method, path, body, hdr)
        r = conn.getresponse()
        r.read()
        lat.append(time.perf_counter() - t)
        if r.status != 200:
            raise SystemExit("HTTP %d" % r.status)
    wall = time.perf_counter() - t_start
    sum1, n1 = fbt_histogram(conn)
    lat.sort()

    def pct(p):
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1e6

    print("%d %s requests on one keep-alive connection, %.0f req/s" %
          (a.n, a.method, a.n / wall))
    print("client round trip  p50 %.0f us  p90 %.0f us  p99 %.0f us" %
          (pct(50), pct(90), pct(99)))
    print("gateway->xselld    mean %.0f us (gateway's histogram)" %
          ((sum1 - sum0) / (n1 - n0) * 1e6))


if __name__ == "__main__":
    main()

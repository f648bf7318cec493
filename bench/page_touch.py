#!/usr/bin/env python3
"""What a page fault costs on this machine: the time to touch each 4 KiB
page of fresh anonymous memory once, GiB by GiB, and then again in a new
mapping made just after the first is unmapped.

On a bare machine both passes cost about the same (the kernel zeroes a
page and maps it). On a virtual machine whose host backs the guest's
memory lazily, a page the guest has not touched lately costs the host
an allocation too, and the first pass can cost several times the
second: bench/scale.sh runs this beside its loads, because a load at
50M lines touches gigabytes no earlier run had touched.

    bench/page_touch.py [--gib N]      # default 4

Prints one JSON object: "gib", "first_us" and "again_us" (µs a page,
one figure a GiB), and the medians "first_median_us" and
"again_median_us".
"""
import argparse
import json
import mmap
import statistics
import time

PAGE = 4096
GIB = 1 << 30


def touch(gib):
    """Touch every page of a new gib-GiB mapping once; µs a page, by GiB."""
    m = mmap.mmap(-1, gib * GIB)
    ones = b"\1" * (GIB // PAGE)
    costs = []
    try:
        for off in range(0, gib * GIB, GIB):
            t = time.perf_counter()
            m[off:off + GIB:PAGE] = ones  # one byte a page, in C
            costs.append((time.perf_counter() - t) / (GIB // PAGE) * 1e6)
    finally:
        m.close()
    return costs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--gib", type=int, default=4,
                    help="GiB to touch in each pass, 1..64 (default 4)")
    args = ap.parse_args()
    if not 1 <= args.gib <= 64:
        ap.error("--gib: 1..64")
    first = touch(args.gib)
    again = touch(args.gib)
    print(json.dumps({
        "gib": args.gib,
        "first_us": [round(x, 2) for x in first],
        "again_us": [round(x, 2) for x in again],
        "first_median_us": round(statistics.median(first), 2),
        "again_median_us": round(statistics.median(again), 2),
    }))


if __name__ == "__main__":
    main()

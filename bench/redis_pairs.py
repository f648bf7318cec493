#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the Redis commands that build xsell's basket pairs from an Online
Retail export: for every order (in order of first appearance), its
distinct items with quantity > 0, at most 100 of them (the ones with the
smallest md5 of order and item id, as bench/pg-load.sh samples), and one
ZINCRBY p:A 1 B for every ordered pair. Items are numbered by first
appearance, and keys written p:%012d so that redis-benchmark's
__rand_int__ names them. Output: the raw RESP protocol, for
`redis-cli --pipe`. Prints '<commands> <items>' on stdout.
"""
import csv
import hashlib
import sys

CAP = 100


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def main():
    src, dst = sys.argv[1], sys.argv[2]
    orders = {}
    with open(src, newline="", encoding="utf-8", errors="replace") as f:
        r = csv.reader(f)
        head = next(r)
        i_order, i_item, i_qty = (head.index("InvoiceNo"),
                                  head.index("StockCode"),
                                  head.index("Quantity"))
        for row in r:
            try:
                qty = float(row[i_qty])
            except ValueError:
                continue
            if qty <= 0:
                continue
            items = orders.setdefault(row[i_order], [])
            if row[i_item] not in items:
                items.append(row[i_item])
    ids = {}
    n = 0
    with open(dst, "wb") as out:
        for order, items in orders.items():
            if len(items) > CAP:
                items = sorted(items, key=lambda it: hashlib.md5(
                    (order + " " + it).encode()).digest())[:CAP]
            num = []
            for it in items:
                num.append(ids.setdefault(it, len(ids)))
            keys = [b"p:%012d" % x for x in num]
            mems = [b"%d" % x for x in num]
            buf = []
            for a in range(len(num)):
                for b in range(len(num)):
                    if a != b:
                        buf.append(resp(b"ZINCRBY", keys[a], b"1", mems[b]))
                        n += 1
            out.write(b"".join(buf))
    print(n, len(ids))


if __name__ == "__main__":
    main()

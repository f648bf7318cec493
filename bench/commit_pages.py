#!/usr/bin/env python3
"""Which LMDB pages changed between two copies of one store's data.mdb.

    bench/commit_pages.py BEFORE.mdb AFTER.mdb

Copy data.mdb before and after the writes of interest (e.g. one `event`
request to a running xselld) and compare them page by page: a page
whose bytes differ was written by a commit in between (LMDB is
copy-on-write, so a commit writes every page it touched). Each changed
page is classed by its header: pair-list leaves (the DUPFIXED leaves of
a neighbour list's sub-database), branch pages, overflow values (top
lists of more than ~250 entries, counter chunks), and plain leaves
(the main trees: each neighbour list's root record, top lists,
orders, ...). The store must not be written by anything else between
the two copies (xselld's complements refresher writes too: stop it or
count its pages in). Reads the LMDB 0.9 page layout with 4 KiB pages.
"""
import collections
import struct
import sys

PAGE = 4096
P_BRANCH, P_LEAF, P_OVERFLOW, P_LEAF2 = 0x01, 0x02, 0x04, 0x20


def classify(page, pgno):
    """The kind of page 'page' (bytes of page number pgno) and how many
    pages it spans."""
    got, _pad, flags = struct.unpack_from("<QHH", page, 0)
    if got != pgno:
        return "unreferenced (free, old bytes)", 1
    if flags & P_OVERFLOW:
        span = struct.unpack_from("<I", page, 12)[0]
        kind = "overflow value, 1 page" if span == 1 else \
            "overflow value, 2+ pages"
        return kind, max(span, 1)
    if flags & P_LEAF2:
        return "pair-list leaf (DUPFIXED sub-db)", 1
    if flags & P_BRANCH:
        return "branch", 1
    if flags & P_LEAF:
        return "leaf (main trees)", 1
    return "other (flags 0x%x)" % flags, 1


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        before = f.read()
    with open(argv[2], "rb") as f:
        after = f.read()
    n_pages = len(after) // PAGE
    kinds = collections.Counter()
    changed = 0
    pgno = 2  # pages 0 and 1 are the meta pages, written by every commit
    while pgno < n_pages:
        kind, span = classify(after[pgno * PAGE:(pgno + 1) * PAGE], pgno)
        span = min(span, n_pages - pgno)
        lo, hi = pgno * PAGE, (pgno + span) * PAGE
        if before[lo:hi] != after[lo:hi]:
            changed += span
            kinds[kind] += span
        pgno += span
    print("pages in file %d, changed %d (%.1f MB), meta pages aside" %
          (n_pages, changed, changed * PAGE / 1e6))
    for kind, n in kinds.most_common():
        print("  %-34s %6d  %4.1f%%" % (kind, n, 100.0 * n / max(changed, 1)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

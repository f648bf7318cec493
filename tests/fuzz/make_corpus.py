#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Write the fuzzers' seed corpora (committed; run again only to refresh).

corpus/decode/: every request of proto/vectors (setup steps included),
packed to msgpack as a client would send it, plus hand-made hostile
requests the vectors cannot spell in JSON (huge declared lengths in a
tiny message, NaN, invalid UTF-8, trailing bytes, duplicate keys).

corpus/load/: an options byte ('c', 't', 'j', 'b' for order files, others
give the type of the lines too; see fuzz_load.c) then a file: slices of tests/data/online-retail-2011-02.csv (header + 100 lines
each) and hand-written TSV, JSONL and basket lines.

Usage: tests/fuzz/make_corpus.py   (Debian python3 with python3-msgpack)
"""
import json
import math
import pathlib
import struct

import msgpack

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parent.parent
DECODE = HERE / "corpus" / "decode"
LOAD = HERE / "corpus" / "load"


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def decode_seeds():
    seeds = {}
    for f in sorted((ROOT / "proto" / "vectors").rglob("*.json")):
        v = json.loads(f.read_text())
        rel = f.relative_to(ROOT / "proto" / "vectors").with_suffix("")
        stem = str(rel).replace("/", "-")
        if "steps" in v:
            for i, st in enumerate(v["steps"]):
                seeds[f"{stem}-{i}"] = pack(st["request"])
        else:
            seeds[stem] = pack(v["request"])
    # Hostile shapes, by hand. 0xdd = array32, 0xdf = map32, 0xdb = str32.
    seeds["hostile-huge-array"] = (b"\x82\xa2op\xa3fbt\xa5items"
                                   + b"\xdd\xff\xff\xff\xff\xa1A")
    seeds["hostile-huge-map"] = b"\xdf\x7f\xff\xff\xff\xa2op\xa5stats"
    seeds["hostile-huge-str"] = (b"\x81\xa2op\xdb\xff\xff\xff\xf0stats")
    seeds["hostile-deep"] = pack({"op": "stats", "id": [[[[[[[[[[1]]]]]]]]]]})
    seeds["hostile-trailing"] = pack({"op": "stats"}) + b"\xc0\xc0"
    seeds["hostile-dup-op"] = b"\x82\xa2op\xa5stats\xa2op\xa3fbt"
    seeds["hostile-bad-utf8"] = (
        b"\x82\xa2op\xa3fbt\xa5items\x91\xa2\xc3\x28")
    seeds["hostile-nan-price"] = pack(
        {"op": "items", "items": [{"item": "A", "price": math.nan}]})
    seeds["hostile-inf-price"] = pack(
        {"op": "fbt", "items": ["A"], "filter": {"price_max": math.inf}})
    seeds["hostile-k-negative"] = pack({"op": "fbt", "items": ["A"], "k": -1})
    seeds["hostile-k-huge"] = pack({"op": "fbt", "items": ["A"],
                                    "k": 2**64 - 1})
    seeds["hostile-bin-id"] = pack({"op": "fbt", "items": [b"A"]})
    seeds["hostile-ext"] = b"\x81\xa2op\xd4\x01\x02"
    seeds["hostile-float32-ts"] = (
        b"\x82\xa2op\xa5event\xa6events\x91\x84\xa4type\xa4view"
        b"\xa4user\xa1u\xa4item\xa1A\xa2ts\xca" + struct.pack(">f", 1e30))
    seeds["hostile-order-many-lines"] = pack({
        "op": "event", "events": [{"type": "order", "order": "o",
                                   "lines": [{"item": "A", "qty": 1e308},
                                             {"item": "A", "qty": -1}]}]})
    return seeds


RETAIL_HEADER_AND_SLICES = 100


def load_seeds():
    seeds = {}
    lines = (ROOT / "tests" / "data" /
             "online-retail-2011-02.csv").read_bytes().splitlines(True)
    header, body = lines[0], lines[1:]
    for n, start in enumerate((0, 5000, 12000, 20000)):
        chunk = body[start:start + RETAIL_HEADER_AND_SLICES]
        seeds[f"csv-retail-{n}"] = b"c" + header + b"".join(chunk)
    seeds["csv-quoted"] = (b'c"order","item","qty","price","ts"\r\n'
                           b'1,"a ""b""",2,1.5,2011-02-01 08:23:00\r\n'
                           b'1,"c,d",-1,0.5,1296548580\r\n'
                           b'2,"multi\nline",3,,2011-02-01T08:23:00Z\n')
    seeds["tsv-basic"] = (b"torder\tuser\titem\tqty\tprice\tts\tcategory\n"
                          b"o1\tu1\tA\t2\t1.25\t2011-02-01\tbakery\n"
                          b"o1\tu1\tB\t1\t3\t2011-02-01\tbakery\n"
                          b"o2\t\tA\t0\t1\t1296548580\t\n"
                          b"o3\tu2\tC\n")
    seeds["tsv-events"] = (b"tuser\titem\tevent_type\tts\trating\n"
                           b"u1\tA\tview\t1296548580\t\n"
                           b"u1\tA\taddtocart\t1296548590\t\n"
                           b"u1\tA\ttransaction\t1296548600\t\n"
                           b"u2\tB\trating\t1296548600\t4\n")
    seeds["jsonl-orders"] = (
        b'j{"order": 536365, "item": "85123A", "qty": 2.5, '
        b'"ts": "2010-12-01T08:26:00Z", "user": 17850}\n'
        b'{"item": 7, "order": "o2", "extra": {"x": [1, 2]}}\n'
        b'{"order": null, "item": "x", "qty": 1}\n'
        b'{bad\n'
        b'[1, 2]\n'
        b'{"order": true, "item": "x"}\n'
        b'{"order": "o3", "item": "\\u00e9t\\u00e9", "price": 1e3}\n')
    seeds["jsonl-events"] = (
        b'j{"user": "u1", "item": "A", "event": "view", "ts": 1291191000}\n'
        b'{"user": "u1", "item": "A", "event": "addtocart", '
        b'"ts": 1291191001}\n'
        b'{"user": "u1", "item": "A", "event": "rating", "rating": 5}\n')
    # Other first bytes also give the type of the lines (fuzz_load.c):
    # 0x04 is CSV of views, 0x11 TSV of ratings.
    seeds["csv-type-view"] = (b"\x04user,item,ts\n"
                              b"u1,22697,2011-02-01 08:23:00\n"
                              b"u1,22698,2011-02-01 08:25:00\n"
                              b"u2,22697,1296548580\n")
    seeds["tsv-type-rating"] = (b"\x11user\titem\trating\n"
                                b"u1\tA\t5\nu2\tA\t0\nu3\tB\t3\n")
    seeds["baskets-groceries"] = (
        b"bcitrus fruit,semi-finished bread,margarine,ready soups\n"
        b"tropical fruit,yogurt,coffee\n"
        b"whole milk\n"
        b"pip fruit,cream cheese ,yogurt\n"
        b"\n"
        b"a,a,b,,c\r\n")
    return seeds


def write(dirpath, seeds):
    dirpath.mkdir(parents=True, exist_ok=True)
    for old in dirpath.iterdir():
        old.unlink()
    for name, data in seeds.items():
        (dirpath / name).write_bytes(data)
    print(f"{dirpath.relative_to(ROOT)}: {len(seeds)} files")


if __name__ == "__main__":
    write(DECODE, decode_seeds())
    write(LOAD, load_seeds())

#!/usr/bin/env python3
"""Write the "Scale" section of bench/RESULTS.md from bench/scale.sh's raw
runs (one JSON object a line: loads, query runs, skipped sizes).

The section sits between its own markers, below the notes that
bench/run.sh keeps, so either script can run again without losing the
other's figures. Query figures are the median over the runs of each
(size, op), quantile by quantile.
"""
import argparse
import json
import statistics

BEGIN = "<!-- scale: written by bench/scale.sh -->"
END = "<!-- end of scale -->"
# The ops timed at each size (xsell-bench --mix), as the table names them.
OPS = (("fbt", "fbt"), ("fbt_cart", "cart of 3"), ("picks", "picks"))


def fmt(x, digits=1):
    return f"{x:,.{digits}f}"


def size_name(n):
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    if n % 1_000 == 0:
        return f"{n // 1_000}k"
    return str(n)


def read_runs(path):
    load_runs, queries, skipped, touch = {}, {}, [], None
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["kind"] == "page_touch":
                touch = rec["r"]
            elif rec["kind"] == "load":
                load_runs.setdefault(rec["size"], []).append(rec)
            elif rec["kind"] == "query":
                op = rec["r"]["ops"][rec["op"]]
                queries.setdefault((rec["size"], rec["op"]), []).append(op)
            elif rec["kind"] == "skipped":
                skipped.append(rec)
    return load_runs, queries, skipped, touch


def fastest(load_runs):
    """Each size's fastest load: the others paid more for fresh pages or
    for other work on the machine."""
    return {n: min(runs, key=lambda r: r["seconds"])
            for n, runs in load_runs.items()}


def cpu_s(ld):
    """The load's user + sys CPU seconds; None for a run without them."""
    if "user_s" not in ld:
        return None
    return ld["user_s"] + ld["sys_s"]


def median_of(runs, key):
    return statistics.median(r[key] for r in runs)


def section(args, load_runs, queries, skipped, touch):
    loads = fastest(load_runs)
    sizes = sorted(loads)
    repeats = {len(v) for v in load_runs.values()}
    o = [BEGIN, "", "## Scale: synthetic orders, 1M lines and up", ""]
    o.append(f"- when: {args.date}; commit `{args.commit}`")
    o.append(f"- machine: {args.machine} (shared with other work: noisy)")
    o.append(f"- command: `{args.command}`")
    o.append("- data: `xsell-gen --lines N --seed 1` (defaults: 50,000 items "
             "with Zipf s = 1 popularity, 500 categories, N/20 customers "
             "with Zipf s = 0.8 activity, 5% guest orders, 1 + geometric "
             "basket sizes of mean 4, one year); one fresh store a size, "
             "`xsell-load --db NEW --quiet FILE` (wall and CPU time, page "
             "faults and peak RSS from /usr/bin/time, store size from du)"
             + ("" if repeats <= {1} else
                f"; {'/'.join(str(r) for r in sorted(repeats))} loads a "
                "size, the fastest kept (all: "
                + "; ".join(f"{size_name(n)} "
                            + " / ".join(fmt(r['seconds'], 2)
                                         for r in load_runs[n]) + " s"
                            for n in sorted(load_runs)) + ")"))
    o.append("- queries: `xsell-bench --inproc --cpu-time` on that store, "
             "one thread, the model call alone timed by the thread's CPU "
             "clock (the wall p99 of a shared machine is its scheduler's): "
             "fbt of one item and fbt of a cart of 3 (items drawn by "
             "popularity), and picks for_you, k 10, of a user drawn "
             "uniformly among those with 1..200 history events, `now` = "
             "the newest event in the store; each the median of "
             f"{args.repeat_note} runs")
    o.append("")
    o.append("| lines | orders | items | users | ordered pairs | load s "
             "| lines/s | s per 1M lines | CPU s per 1M lines | peak RSS MB "
             "| store MB | "
             + " | ".join(f"{name} p50 µs | {name} p99 µs"
                          for _, name in OPS) + " |")
    o.append("|---:" * (11 + 2 * len(OPS)) + "|")
    for n in sizes:
        ld = loads[n]
        row = [size_name(n), f"{ld['orders']:,}", f"{ld['items']:,}",
               f"{ld['users']:,}", f"{ld['pairs']:,}", fmt(ld["seconds"], 2),
               f"{n / ld['seconds']:,.0f}",
               fmt(ld["seconds"] / (n / 1e6), 2),
               fmt(cpu_s(ld) / (n / 1e6), 2) if cpu_s(ld) else "–",
               f"{ld['max_rss_kb'] / 1024:,.0f}",
               f"{ld['store_kb'] / 1024:,.0f}"]
        for op, _ in OPS:
            runs = queries.get((n, op), [])
            row += [fmt(median_of(runs, "p50_us")) if runs else "–",
                    fmt(median_of(runs, "p99_us")) if runs else "–"]
        o.append("| " + " | ".join(row) + " |")
        if ld["rejected"]:
            o.append(f"\n**{ld['rejected']} lines rejected at {size_name(n)}**\n")
    o.append("")
    o += faults(sizes, loads, touch)
    for s in skipped:
        o.append(f"- {size_name(s['size'])} lines: skipped, the machine had "
                 f"{s['disk_kb'] >> 10:,} MB of disk and {s['mem_kb'] >> 10:,} "
                 "MB of memory free (bench/scale.sh's estimate of the need "
                 "is larger)")
    if skipped:
        o.append("")
    if len(sizes) >= 2:
        o += targets(sizes, loads, queries)
    o += ["", END]
    return "\n".join(o) + "\n"


def faults(sizes, loads, touch):
    """The loads' CPU split into user and sys, beside their page faults
    and what a fault costs on this machine (bench/page_touch.py)."""
    rows = [n for n in sizes if "minor_faults" in loads[n]]
    if not rows:
        return []
    o = ["### The loads' CPU and page faults", ""]
    if touch:
        o.append(
            f"Touching each page of {touch['gib']} GiB of new anonymous "
            f"memory (`bench/page_touch.py`, before the loads) cost "
            f"{touch['first_median_us']:.1f} µs a page (by GiB: "
            f"{', '.join(f'{x:.1f}' for x in touch['first_us'])}), and "
            f"{touch['again_median_us']:.1f} µs touching as much again "
            "just after it was freed. A load pays the first kind for memory "
            "no recent run touched, and the largest load touches the most.")
        o.append("")
    o.append("| lines | user CPU s per 1M lines | sys CPU s per 1M lines "
             "| page faults per 1M lines "
             "| sys CPU µs a page fault (all of sys: an upper bound) |")
    o.append("|---:" * 5 + "|")
    for n in rows:
        ld, m = loads[n], n / 1e6
        o.append(f"| {size_name(n)} | {fmt(ld['user_s'] / m, 2)} "
                 f"| {fmt(ld['sys_s'] / m, 2)} "
                 f"| {ld['minor_faults'] / m:,.0f} "
                 f"| {fmt(ld['sys_s'] / ld['minor_faults'] * 1e6)} |")
    o.append("")
    return o


def targets(sizes, loads, queries):
    lo, hi = sizes[0], sizes[-1]
    per_lo = loads[lo]["seconds"] / lo
    per_hi = loads[hi]["seconds"] / hi
    o = [f"### Against the scale targets of issue 5 ({size_name(lo)} "
         f"against {size_name(hi)})", "",
         "| target | measured | |", "|---|---|---|"]
    grow = per_hi / per_lo
    o.append(f"| load time grows no worse than linearly (time per line at "
             f"{size_name(hi)} ≤ at {size_name(lo)}) | {grow:.2f} × the time "
             f"per line | {'met' if grow <= 1.0 else '**missed**'} |")
    if cpu_s(loads[lo]) and cpu_s(loads[hi]):
        cgrow = (cpu_s(loads[hi]) / hi) / (cpu_s(loads[lo]) / lo)
        o.append(f"| the same in CPU time (user + sys; less sensitive to "
                 f"the other work on the machine) | {cgrow:.2f} × the CPU "
                 f"time per line | {'met' if cgrow <= 1.0 else '**missed**'} |")
    if "minor_faults" in loads[lo] and "minor_faults" in loads[hi]:
        ugrow = (loads[hi]["user_s"] / hi) / (loads[lo]["user_s"] / lo)
        fgrow = ((loads[hi]["minor_faults"] / hi)
                 / (loads[lo]["minor_faults"] / lo))
        o.append(f"| the same in user CPU time alone (the loader's own work,"
                 f" without the kernel's) | {ugrow:.2f} × | reported |")
        o.append(f"| page faults per line (pages the load touches) "
                 f"| {fgrow:.2f} × | reported |")
    for op, _ in OPS:
        a, b = queries.get((lo, op)), queries.get((hi, op))
        if not a or not b:
            continue
        ratio = median_of(b, "p99_us") / median_of(a, "p99_us")
        o.append(f"| {op}: p99 at {size_name(hi)} ≤ 2 × p99 at "
                 f"{size_name(lo)} | {ratio:.2f} × "
                 f"| {'met' if ratio <= 2.0 else '**missed**'} |")
    return o


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("raw")
    ap.add_argument("out")
    ap.add_argument("--machine", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--date", required=True)
    ap.add_argument("--command", required=True)
    args = ap.parse_args()
    load_runs, queries, skipped, touch = read_runs(args.raw)
    counts = {len(v) for v in queries.values()}
    args.repeat_note = "/".join(str(c) for c in sorted(counts)) or "0"
    text = section(args, load_runs, queries, skipped, touch)
    try:
        with open(args.out) as f:
            old = f.read()
    except FileNotFoundError:
        old = ""
    if BEGIN in old and END in old:
        head = old[:old.index(BEGIN)]
        tail = old[old.index(END) + len(END):].lstrip("\n")
        new = head + text + ("\n" + tail if tail else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text if old else text
    with open(args.out, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main()

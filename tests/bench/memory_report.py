#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Turns memory.jsonl of tests/bench/run --memory into memory.json and
memory.md: bytes per stream of conntrack, of the fold state and in total,
measured (anonymous memory deltas) and as OVS accounts them."""

import json
import re
import sys


def malloc_chunk(size):
    """What glibc's malloc takes for a block of 'size' bytes (64-bit):
    8 bytes of header, rounded up to 16, at least 32."""
    return max(32, (size + 8 + 15) & ~15)


def main():
    out, cpu = sys.argv[1], sys.argv[2].strip()
    runs = [json.loads(line) for line in open(f"{out}/memory.jsonl")]
    by = {(r["streams"], r["datapath"]): r for r in runs}
    rows = []
    for n in sorted({r["streams"] for r in runs}):
        off, on = by.get((n, "off")), by.get((n, "on"))
        if not off or not on:
            continue

        def delta(r, key):
            return (r[key][1] - r[key][0]) * 1024

        # Conntrack's share per connection, from the run without folding;
        # the fold state is what the run with folding holds beyond its
        # own connections.  Each is divided by what it counted when the
        # memory was read (at least 99 % of the streams).
        ct_per_conn = delta(off, "anonymous_kb") / off["conns"]
        total = delta(on, "anonymous_kb")
        fold = total - ct_per_conn * on["conns"]
        held = 0
        for line in on["fold_show"]:
            m = re.match(r"memory held: (\d+) bytes", line)
            if m:
                held += int(m.group(1))
        row = {
            "streams": n,
            "capacity": on["capacity"],
            "seconds_off": off["seconds"], "seconds_on": on["seconds"],
            "conns": on["conns"], "folded": on["folded"],
            "fold_hits": on["fold_hits"],
            "megaflows_off": off["megaflows"], "megaflows_on": on["megaflows"],
            # Measured: anonymous memory deltas, per stream.
            "ct_share_per_stream": ct_per_conn,
            "fold_per_stream": fold / on["folded"],
            "total_per_stream": total / on["folded"],
            "rss_anon_total_per_stream":
                delta(on, "rss_anon_kb") / on["folded"],
            # As accounted: fold/show, and conntrack's count times a
            # connection's malloc block.
            "fold_show_held_per_stream": held / on["folded"]
                if on["folded"] else 0,
            "fold_show": on["fold_show"],
            "sizeof_conn_tcp": on["sizeof_conn_tcp"],
            "sizeof_fold_chain": on["sizeof_fold_chain"],
            "sizeof_fold_guard": on["sizeof_fold_guard"],
            "conn_bytes_per_stream":
                malloc_chunk(on["sizeof_conn_tcp"])
                if on["sizeof_conn_tcp"] else 0,
        }
        rows.append(row)
    json.dump({"cpu": cpu, "rows": rows}, open(f"{out}/memory.json", "w"),
              indent=1)
    with open(f"{out}/memory.md", "w") as f:
        f.write(f"# Memory per folded stream\n\nCPU: {cpu}\n\n")
        f.write("Bytes per stream of ovs-vswitchd's anonymous memory "
                "(smaps_rollup Anonymous), vxlan-ct pipeline: conntrack "
                "per connection (folding off), the fold state per folded "
                "stream (folding on, less its connections), and the "
                "total per folded stream (folding on). fold/show held: "
                "the engine's own account, per stream; conn block: "
                "sizeof(struct conn_tcp) as malloc allocates it.\n\n")
        f.write("| streams | fold capacity | conntrack | fold state | "
                "total | fold/show held | conn block | "
                "megaflows off/on | learnt in (off/on) |\n")
        f.write("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
        for r in rows:
            f.write(f"| {r['streams']:,} | {r['capacity']:,} "
                    f"| {r['ct_share_per_stream']:.0f} "
                    f"| {r['fold_per_stream']:.0f} "
                    f"| {r['total_per_stream']:.0f} "
                    f"| {r['fold_show_held_per_stream']:.0f} "
                    f"| {r['conn_bytes_per_stream']:.0f} "
                    f"| {r['megaflows_off']}/{r['megaflows_on']} "
                    f"| {r['seconds_off']} s / {r['seconds_on']} s |\n")
        for r in rows:
            f.write(f"\nfold/show at {r['streams']:,} streams "
                    f"({r['folded']:,} folded, {r['fold_hits']:,} hits):\n\n")
            for line in r["fold_show"]:
                f.write(f"    {line}\n")
    print(open(f"{out}/memory.md").read())


if __name__ == "__main__":
    main()

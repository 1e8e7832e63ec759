#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Turns a benchmark run's results.jsonl into results.json, results.md and
PNG plots.

usage: report.py RESULTS_DIR TOP_DIR

Each cell (pipeline, streams, size, datapath) is summarised by the median of
its windows over all rounds, with the spread (min-max) of cycles/pkt, and
by the median of each round's windows. A ratio between two datapaths is
computed per round, from that round's medians, and reported as the median
of the per-round ratios with their spread (min-max): the runner runs the
datapaths of a cell in turn within each round (stock, on, stock, on, ...).
Windows without a "round" (results of older runners) are round 1. Ratios
compare datapaths of the same run only.
"""

import json
import os
import platform
import re
import statistics
import subprocess
import sys

DATAPATHS = ["stock", "off", "on", "flowtable", "meter", "offload"]
NAMES = {"stock": "stock OVS-DPDK", "off": "Foldpath, fold off",
         "on": "Foldpath, fold on",
         "flowtable": "Foldpath, fold on, fold-ct-mode=flowtable",
         "meter": "Foldpath, fold on, one fp-meter on the VM's port",
         "offload": "Foldpath, fold on + fold-offload (test e-switch)"}
PIPELINES = ["l2", "vxlan", "vxlan-ct", "egress-ct", "pvp-ct",
             "vxlan-ct-esw"]
FIELDS = ["mpps", "cycles_per_pkt", "passes_per_pkt", "delivered_mpps",
          "tx_drops", "fold_hit_rate", "rss_kb",
          "busy_cycles_per_delivered", "ovs_rx_per_delivered"]


def command(args, cwd=None):
    try:
        return subprocess.run(args, cwd=cwd, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(top):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "dpdk": command(["pkg-config", "--modversion", "libdpdk"]),
        "ovs_stock": command(["dpkg-query", "-W", "-f=${Version}",
                              "openvswitch-switch-dpdk"]),
        "ovs_base": "3.1.0 (Debian openvswitch-source)",
        "foldpath_commit": build_revision(top),
    }


def build_revision(top):
    """The revision the measured build was made from (FP_BUILD, which
    may be another checkout's build), else the source tree's."""
    build = os.environ.get("FP_BUILD") or os.path.join(top, "build")
    try:
        with open(os.path.join(build, "lib", "fp_build.h")) as f:
            m = re.search(r'FP_BUILD_REVISION "([^"]*)"', f.read())
            if m:
                return m.group(1)
    except OSError:
        pass
    return command(["git", "describe", "--always", "--dirty",
                    "--abbrev=12"], cwd=top)


def run_gnuplot(script, path, who):
    """Runs gnuplot on 'script', which writes the PNG 'path'.  Returns
    True if it did; else says why on stderr, as 'who', and removes what
    it left."""
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if r.returncode == 0 and os.path.exists(path) \
            and os.path.getsize(path) > 0:
        return True
    sys.stderr.write("%s: gnuplot: %s\n" % (who, r.stderr))
    if os.path.exists(path):
        os.remove(path)
    return False


def read_jsonl(path):
    """The objects of a JSON Lines file, one per non-empty line."""
    rows = []
    with open(path) as f:
        for line in f:
            if line.strip():
                rows.append(json.loads(line))
    return rows


def medians(rs):
    return {f: statistics.median(r.get(f, 0.0) for r in rs) for f in FIELDS}


def summarise(rows):
    cells = {}
    for r in rows:
        key = (r["pipeline"], r["streams"], r["size"], r["datapath"])
        cells.setdefault(key, []).append(r)
    out = []
    for (pipeline, streams, size, dp), rs in sorted(cells.items()):
        cell = {"pipeline": pipeline, "streams": streams, "size": size,
                "datapath": dp, "windows": len(rs)}
        cell.update(medians(rs))
        cyc = [r["cycles_per_pkt"] for r in rs]
        cell["cycles_per_pkt_min"] = min(cyc)
        cell["cycles_per_pkt_max"] = max(cyc)
        rounds = {}
        for r in rs:
            rounds.setdefault(r.get("round", 1), []).append(r)
        cell["rounds"] = [dict(round=n, windows=len(rounds[n]),
                               **medians(rounds[n]))
                          for n in sorted(rounds)]
        out.append(cell)
    return out


class Ratios:
    """The ratios of a run: each computed per round, from the two cells'
    medians of that round, and kept for results.json."""

    def __init__(self):
        self.all = []

    def __call__(self, name, a, b, field, idle=None):
        """Cell a's figure 'field' over cell b's, per round of both cells,
        as "median (min-max, N rounds)", or "-". With 'idle', a round in
        which b's figure is 0 and b delivered packets counts as 'idle' (an
        offloaded cell may cost the PMD nothing) rather than as a missing
        ratio; the ratio is 'idle' when every round is."""
        if not a or not b:
            return "-"
        ra = {r["round"]: r for r in a["rounds"]}
        rb = {r["round"]: r for r in b["rounds"]}
        values, idles = [], 0
        for n in sorted(set(ra) & set(rb)):
            x, y = ra[n][field], rb[n][field]
            if x and y:
                values.append({"round": n, "ratio": x / y, "a": x, "b": y})
            elif idle and not y and rb[n]["delivered_mpps"]:
                idles += 1
        if idles and not values:
            return idle
        if not values:
            return "-"
        rs = [v["ratio"] for v in values]
        entry = {"name": name, "a": a["datapath"], "b": b["datapath"],
                 "a_pipeline": a["pipeline"], "b_pipeline": b["pipeline"],
                 "streams": a["streams"], "size": a["size"],
                 "field": field,
                 "median": statistics.median(rs), "min": min(rs),
                 "max": max(rs), "per_round": values}
        if idles:
            entry["idle_rounds"] = idles
        self.all.append(entry)
        if len(rs) == 1:
            text = "%.2f (1 round)" % rs[0]
        else:
            text = "%.2f (%.2f\u2013%.2f, %d rounds)" % (
                entry["median"], entry["min"], entry["max"], len(rs))
        if idles:
            text += ", %s in %d" % (idle, idles)
        return text


def markdown(cells, info, ratio, trains):
    by = {(c["pipeline"], c["streams"], c["size"], c["datapath"]): c
          for c in cells}
    traffic = ""
    if trains != [1]:
        traffic = (" Traffic: each stream's packets arrive in trains of %s "
                   "back to back (--train)."
                   % " and ".join(str(t) for t in trains))
    lines = ["# Foldpath benchmark", "",
             "Machine: %s, %d cores, kernel %s; DPDK %s; stock OVS-DPDK %s; "
             "Foldpath %s.%s" % (info["cpu"], info["cores"], info["kernel"],
                                 info["dpdk"], info["ovs_stock"],
                                 info["foldpath_commit"], traffic), "",
             "One PMD thread. Figures are medians over the windows of all "
             "rounds of each cell; cycles/pkt shows the spread (min-max). "
             "Ratios compare datapaths of this run, round by round: each "
             "is computed from the two cells' medians of one round, and "
             "shown as the median of the rounds' ratios, with their "
             "spread (min\u2013max) and the number of rounds. *stock/on* "
             "is how many times fewer cycles a packet costs with folding, "
             "*off/stock* the cost of Foldpath with folding disabled.", ""]
    if any(c["datapath"] == "flowtable" for c in cells):
        lines[-2] += (" *stock/flowtable* is stock/on for folding with "
                      "fold-ct-mode=flowtable (*on* is fold-ct-mode=exact), "
                      "and *on/flowtable* how many times fewer cycles a "
                      "packet costs with flowtable than with exact.")
    pipelines = sorted({c["pipeline"] for c in cells},
                       key=PIPELINES.index)
    for p in pipelines:
        if p.endswith("-esw"):
            lines += offload_table(p, cells, by, ratio)
            continue
        lines += ["## %s" % p, "",
                  "| streams | size | datapath | cycles/pkt | passes/pkt | "
                  "Mpps (PMD) | delivered Mpps | tx drops | fold hits | "
                  "RSS MB |",
                  "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for streams in sorted({c["streams"] for c in cells
                               if c["pipeline"] == p}):
            for size in sorted({c["size"] for c in cells
                                if c["pipeline"] == p}):
                for dp in DATAPATHS:
                    c = by.get((p, streams, size, dp))
                    if not c:
                        continue
                    lines.append(
                        "| %d | %d | %s | %.0f (%.0f-%.0f) | %.2f | %.2f | "
                        "%.2f | %.0f | %.0f%% | %.0f |"
                        % (streams, size, dp, c["cycles_per_pkt"],
                           c["cycles_per_pkt_min"], c["cycles_per_pkt_max"],
                           c["passes_per_pkt"], c["mpps"],
                           c["delivered_mpps"], c["tx_drops"],
                           100 * c["fold_hit_rate"], c["rss_kb"] / 1024))
        lines.append("")
        # The flowtable columns only when this pipeline ran flowtable.
        ft = any(c["pipeline"] == p and c["datapath"] == "flowtable"
                 for c in cells)
        lines += ["| streams | size | stock/on (cycles) | off/stock (cycles) "
                  "| on/stock (Mpps) |"
                  + (" stock/flowtable (cycles) | on/flowtable (cycles) |"
                     if ft else ""),
                  "|---:|---:|---:|---:|---:|" + ("---:|---:|" if ft else "")]
        for streams in sorted({c["streams"] for c in cells
                               if c["pipeline"] == p}):
            for size in sorted({c["size"] for c in cells
                                if c["pipeline"] == p}):
                s = by.get((p, streams, size, "stock"))
                o = by.get((p, streams, size, "off"))
                n = by.get((p, streams, size, "on"))
                t = by.get((p, streams, size, "flowtable"))
                if not s:
                    continue
                line = "| %d | %d | %s | %s | %s |" % (
                    streams, size,
                    ratio("stock/on", s, n, "cycles_per_pkt"),
                    ratio("off/stock", o, s, "cycles_per_pkt"),
                    ratio("on/stock Mpps", n, s, "mpps"))
                if ft:
                    line += " %s | %s |" % (
                        ratio("stock/flowtable", s, t, "cycles_per_pkt"),
                        ratio("on/flowtable", n, t, "cycles_per_pkt"))
                lines.append(line)
        lines.append("")
    meter_rows = []
    for c in cells:
        if c["datapath"] != "meter":
            continue
        n = by.get((c["pipeline"], c["streams"], c["size"], "on"))
        if n:
            meter_rows.append("| %s | %d | %d | %.0f | %.0f | %+.0f |" % (
                c["pipeline"], c["streams"], c["size"], n["cycles_per_pkt"],
                c["cycles_per_pkt"],
                c["cycles_per_pkt"] - n["cycles_per_pkt"]))
    if meter_rows:
        lines += ["Cost of one fp-meter (egress, on the VM's port, never "
                  "limiting):", "",
                  "| pipeline | streams | size | on (cycles/pkt) | "
                  "meter (cycles/pkt) | added |",
                  "|---|---:|---:|---:|---:|---:|"] + meter_rows + [""]
    l2 = [c for c in cells
          if c["pipeline"] == "l2" and c["datapath"] == "stock"]
    if l2:
        lines += ["Single-pass floor (l2 on stock OVS-DPDK): %s." %
                  ", ".join("%.0f cycles/pkt at %d streams"
                            % (c["cycles_per_pkt"], c["streams"])
                            for c in l2), ""]
        floor = {(c["streams"], c["size"]): c for c in l2}
        folded = sorted((c for c in cells
                         if c["pipeline"] != "l2"
                         and c["datapath"] in ("on", "flowtable")
                         and (c["streams"], c["size"]) in floor),
                        key=lambda c: (c["pipeline"], c["streams"], c["size"],
                                       DATAPATHS.index(c["datapath"])))
        # A datapath column only when flowtable rows share the table.
        ft = any(c["datapath"] == "flowtable" for c in folded)
        rows = []
        for c in folded:
            f = floor[(c["streams"], c["size"])]
            r = ratio("%s/l2" % c["datapath"], c, f, "cycles_per_pkt")
            if ft:
                rows.append("| %s | %d | %d | %s | %s |" % (
                    c["pipeline"], c["streams"], c["size"], c["datapath"], r))
            else:
                rows.append("| %s | %d | %d | %s |" % (
                    c["pipeline"], c["streams"], c["size"], r))
        if rows and ft:
            lines += ["Folded pipelines against that floor, at the same "
                      "streams and size (on: fold-ct-mode=exact):", "",
                      "| pipeline | streams | size | datapath | "
                      "folded/l2 (cycles) |",
                      "|---|---:|---:|---|---:|"] + rows + [""]
        elif rows:
            lines += ["Folded pipelines against that floor, at the same "
                      "streams and size:", "",
                      "| pipeline | streams | size | on/l2 (cycles) |",
                      "|---|---:|---:|---:|"] + rows + [""]
    return "\n".join(lines) + "\n"


def offload_table(p, cells, by, ratio):
    """The pipelines on the test e-switch: what the OVS PMD spends per
    packet delivered to the VM, and how many of them it received, since
    the e-switch forwards offloaded streams without it."""
    lines = ["## %s (TEST E-SWITCH PMD: a software model, not a NIC)" % p, "",
             "The e-switch's \"hardware\" is a host thread, so delivered "
             "Mpps measure this machine, not a NIC. What offload saves is "
             "the OVS PMD's work: *PMD busy cycles per delivered packet* "
             "(busy cycles over the window / packets the VM received) and "
             "*OVS rx per delivered packet* (1 when OVS forwards "
             "everything, 0 when the e-switch does).", "",
             "| streams | size | datapath | PMD busy cycles / delivered pkt "
             "| OVS rx / delivered pkt | passes/pkt (PMD) | delivered Mpps |",
             "|---:|---:|---|---:|---:|---:|---:|"]
    keys = sorted({(c["streams"], c["size"]) for c in cells
                   if c["pipeline"] == p})
    for streams, size in keys:
        for dp in DATAPATHS:
            c = by.get((p, streams, size, dp))
            if c:
                lines.append("| %d | %d | %s | %.0f | %.3f | %.2f | %.3f |" % (
                    streams, size, dp, c["busy_cycles_per_delivered"],
                    c["ovs_rx_per_delivered"], c["passes_per_pkt"],
                    c["delivered_mpps"]))
    ft = any(c["pipeline"] == p and c["datapath"] == "flowtable"
             for c in cells)
    lines += ["", "| streams | size | stock/on (PMD cycles per delivered) | "
              "stock/offload | on/offload |"
              + (" stock/flowtable | on/flowtable |" if ft else ""),
              "|---:|---:|---:|---:|---:|" + ("---:|---:|" if ft else "")]
    cyc = "busy_cycles_per_delivered"
    for streams, size in keys:
        s, n, o, t = (by.get((p, streams, size, dp))
                      for dp in ("stock", "on", "offload", "flowtable"))
        # An offloaded cell may cost the PMD nothing at all.
        line = "| %d | %d | %s | %s | %s |" % (
            streams, size, ratio("stock/on", s, n, cyc),
            ratio("stock/offload", s, o, cyc, idle="PMD idle"),
            ratio("on/offload", n, o, cyc, idle="PMD idle"))
        if ft:
            line += " %s | %s |" % (ratio("stock/flowtable", s, t, cyc),
                                    ratio("on/flowtable", n, t, cyc))
        lines.append(line)
    return lines + [""]


def gnuplot_str(text):
    """Quotes 'text' as a gnuplot string: in single quotes, a quote is
    written twice."""
    return "'%s'" % text.replace("'", "''")


def plots(cells, out):
    made = []
    for p in sorted({c["pipeline"] for c in cells}):
        if p.endswith("-esw"):
            continue        # Its table says it; a PMD's cycles/pkt do not.
        for size in sorted({c["size"] for c in cells if c["pipeline"] == p}):
            sel = [c for c in cells if c["pipeline"] == p and c["size"] == size]
            if len({c["streams"] for c in sel}) < 2:
                continue
            data = os.path.join(out, "plot-%s-%d.dat" % (p, size))
            present = [dp for dp in DATAPATHS
                       if any(c["datapath"] == dp for c in sel)]
            with open(data, "w") as f:
                for dp in present:
                    f.write("# %s\n" % dp)
                    for c in sorted((c for c in sel if c["datapath"] == dp),
                                    key=lambda c: c["streams"]):
                        f.write("%d %f %f\n" % (c["streams"],
                                                c["cycles_per_pkt"], c["mpps"]))
                    f.write("\n\n")
            for what, col, label in (("cycles", 2, "cycles/pkt"),
                                     ("mpps", 3, "Mpps on the PMD")):
                png = "%s-%s-%d.png" % (what, p, size)
                script = "\n".join([
                    "set terminal png size 800,500",
                    "set output %s" % gnuplot_str(os.path.join(out, png)),
                    "set title %s" % gnuplot_str(
                        "%s, %d-byte frames: %s vs streams"
                        % (p, size, label)),
                    "set logscale x", "set xlabel 'streams'",
                    "set ylabel %s" % gnuplot_str(label), "set yrange [0:*]",
                    "set key outside bottom center horizontal",
                    "plot " + ", ".join(
                        "%s index %d using 1:%d with linespoints title %s"
                        % (gnuplot_str(data), i, col, gnuplot_str(NAMES[dp]))
                        for i, dp in enumerate(present))])
                if run_gnuplot(script, os.path.join(out, png), "report"):
                    made.append(png)
    return made


def main():
    if len(sys.argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    out, top = sys.argv[1], sys.argv[2]
    rows = read_jsonl(os.path.join(out, "results.jsonl"))
    if not rows:
        sys.stderr.write("report: no results in %s\n" % out)
        return 1
    cells = summarise(rows)
    info = machine(top)
    ratio = Ratios()
    trains = sorted({r.get("train", 1) for r in rows})
    md = markdown(cells, info, ratio, trains)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump({"machine": info, "train": trains, "cells": cells,
                   "ratios": ratio.all}, f, indent=1)
    pngs = plots(cells, out)
    if pngs:
        md += "\n## Plots\n\n" + "\n".join("![%s](%s)" % (p, p)
                                           for p in pngs) + "\n"
    with open(os.path.join(out, "results.md"), "w", encoding="utf-8") as f:
        f.write(md)
    sys.stdout.flush()
    sys.stdout.buffer.write(md.encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

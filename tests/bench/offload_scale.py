#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""The offload scale benchmark's helpers (tests/bench/run --offload-scale).

usage: offload_scale.py poll CTL PID TSV TARGET STALL TIMEOUT -- COMMAND...
       offload_scale.py row RUN_DIR [SIZES]
       offload_scale.py report OUT TOP

'poll' runs COMMAND (the switch to fold-offload=true) and, from the moment
it starts, polls fold/offload-show dpdk0 on ovs-vswitchd's control socket
CTL (one connection, JSON-RPC, so that a poll costs a millisecond or so
rather than an ovs-appctl process), writing a timestamped line per poll to
TSV (with ovs-vswitchd's RssAnon, PID's), until "rules installed" reaches
TARGET, or has not grown for STALL
seconds, or TIMEOUT seconds have passed; it prints progress every 5 s and,
last, "result: reached|stalled|timeout INSTALLED PEAK".

'row' prints one JSON line from what one run kept in RUN_DIR (meta.txt,
install.tsv, perf-report*.txt, pmd-perf-show.txt, fold-show-*.txt,
offload-show-*.txt); SIZES are structure sizes, "NAME=BYTES ...", from gdb.
'report' turns OUT/offload-scale.jsonl into offload-scale.json,
offload-scale.md and PNG plots (gnuplot).
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import report  # noqa: E402  (tests/bench/report.py: machine information)

# What the PMD spends on its offloaded streams outside of packets: its
# housekeeping call every 1024 iterations (dp_netdev_fold_pmd_periodic),
# the check of up to 32 offloaded streams per call (fold_offload_check,
# with what it inlines), the accounting of the NIC's packets into the
# megaflows and the connections (fold_offload_count,
# conntrack_offload_refresh*), the removals (fold_offload_detach, _drain,
# _drain_run, dp_netdev_fold_offload_release and _enqueue,
# dp_netdev_fold_offload_unref) and the configuration it reads each call.
# fold_offload_account is static and inlined into fold_offload_check in
# the builds measured so far; it is listed in case a build keeps it.
UPKEEP = [
    "dp_netdev_fold_pmd_periodic",
    "fold_offload_check",
    "fold_offload_account",
    "fold_offload_count",
    "fold_offload_drain_run",
    "fold_offload_drain",
    "fold_offload_detach",
    "fold_path_valid",
    "conntrack_offload_refresh_conn",
    "conntrack_offload_refresh",
    "dp_netdev_fold_offload_enabled",
    "dp_netdev_fold_offload_policy",
    "dp_netdev_fold_offload_release",
    "dp_netdev_fold_offload_enqueue",
    "dp_netdev_fold_offload_unref",
]
# With call graphs, the upkeep is the housekeeping call (ROOT) and all it
# calls, less the fold cache's sweep; its parts are reported too.
ROOT = "dp_netdev_fold_pmd_periodic"
ROOT_PARTS = ["fold_offload_check", "fold_offload_drain_run",
              "fold_offload_detach", "fold_path_valid",
              "conntrack_offload_refresh_conn", "conntrack_offload_refresh"]
# The fold cache's own sweep (idle and stale entries), with or without
# offload: reported on its own.
SWEEP = ["fp_flowcache_sweep", "fold_value_stale"]
# Offering streams to the NIC, per packet that still reaches the PMD.
OFFER = [
    "fold_offload_consider",
    "fold_offload_describe",
    "dp_netdev_fold_offload_create",
    "dp_netdev_fold_offload_install",
    "dp_netdev_fold_offload_ref",
]

UPKEEP_RE = re.compile(r"offload upkeep: (\d+) cycles in (\d+) calls, "
                       r"longest (\d+) cycles")


class Unixctl:
    """A JSON-RPC connection to an OVS daemon's control socket."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buf = ""
        self.id = 0
        self.dec = json.JSONDecoder()

    def call(self, method, *params):
        self.id += 1
        self.sock.sendall(json.dumps({"id": self.id, "method": method,
                                      "params": list(params)}).encode())
        while True:
            text = self.buf.lstrip()
            if text:
                try:
                    msg, end = self.dec.raw_decode(text)
                except ValueError:
                    msg = None
                if msg is not None:
                    self.buf = text[end:]
                    if msg.get("id") != self.id:
                        continue
                    if msg.get("error"):
                        raise RuntimeError("%s: %s" % (method, msg["error"]))
                    return msg.get("result") or ""
            data = self.sock.recv(1 << 20)
            if not data:
                raise RuntimeError("%s: the connection closed" % method)
            self.buf += data.decode("utf-8", "replace")


def offload_counts(show):
    """[installed, pending, created, removed, aged, failures, hw_packets]
    of one port's fold/offload-show (zeros before any offer)."""
    c = [0] * 7
    m = re.search(r"rules installed: (\d+), pending: (\d+), created: "
                  r"(\d+), removed: (\d+), aged: (\d+)", show)
    if m:
        c[:5] = [int(x) for x in m.groups()]
    c[5] = sum(int(x) for x in re.findall(r"^    [a-z-]+: (\d+) \(last:",
                                          show, re.M))
    m = re.search(r"hw packets: (\d+)", show)
    if m:
        c[6] = int(m.group(1))
    return c


def rss_anon_kb(pid):
    for line in read("/proc/%s/status" % pid).splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1])
    return 0


def poll(argv):
    ctl, pid, tsv, target, stall, timeout = argv[:6]
    target, stall, timeout = int(target), float(stall), float(timeout)
    cmd = argv[argv.index("--") + 1:]
    conn = Unixctl(ctl)
    conn.call("fold/offload-show", "dpdk0")     # Connected and answering.
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd)
    peak, grew, report, outcome = 0, t0, t0 + 5, None
    c = [0] * 7
    with open(tsv, "w") as f:
        f.write("# seconds installed pending created removed aged "
                "failures hw_packets rss_anon_kb\n")
        while outcome is None:
            start = time.monotonic()
            c = offload_counts(conn.call("fold/offload-show", "dpdk0"))
            now = time.monotonic()
            f.write("%.4f %s %d\n" % (now - t0, " ".join(map(str, c)),
                                      rss_anon_kb(pid)))
            if c[0] >= target:
                outcome = "reached"
            if c[0] > peak:
                peak, grew = c[0], now
            if outcome is None and now - grew >= stall:
                outcome = "stalled"
            if outcome is None and now - t0 >= timeout:
                outcome = "timeout"
            if now >= report and outcome is None:
                print("%.0f s, %d rules installed (pending %d, created %d, "
                      "removed %d, failures %d)" % (now - t0, c[0], c[1],
                                                    c[2], c[3], c[5]),
                      flush=True)
                report += 5
            # A poll holds the offload records' lock while it walks the
            # installed rules: leave the offload thread most of the time.
            time.sleep(min(0.5, max(0.01, 4 * (now - start))))
    rc = proc.wait()
    if rc:
        print("the switch command failed (status %d)" % rc, flush=True)
        return 1
    print("result: %s %d %d" % (outcome, c[0], peak), flush=True)
    return 0


def malloc_chunk(size):
    """What glibc's malloc takes for a block of 'size' bytes (64-bit):
    8 bytes of header, rounded up to 16, at least 32."""
    return max(32, (size + 8 + 15) & ~15)


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def meta(run):
    m = {}
    for line in read(os.path.join(run, "meta.txt")).splitlines():
        parts = line.split()
        if parts:
            m[parts[0]] = parts[1:]
    return m


def ints(values):
    out = []
    for v in values or []:
        try:
            out.append(int(v))
        except ValueError:
            out.append(0)
    return out


COUNTS = ["installed", "pending", "created", "removed", "aged", "failures",
          "hw_packets"]


def counts(values):
    return dict(zip(COUNTS, ints(values) + [0] * len(COUNTS)))


def crossing(samples, target):
    """The time (s) at which 'installed' first reached 'target',
    interpolated between the poll before and the poll that saw it, and
    the gap between the two polls; (None, None) if it never did."""
    prev_t, prev_n = 0.0, 0
    for t, n in samples:
        if n >= target:
            if n == prev_n:
                return t, t - prev_t
            at = prev_t + (target - prev_n) / (n - prev_n) * (t - prev_t)
            return at, t - prev_t
        prev_t, prev_n = t, n
    return None, None


def install(run, streams):
    """The rules' installation, from the poller's install.tsv."""
    polls = []
    for line in read(os.path.join(run, "install.tsv")).splitlines():
        if line.startswith("#") or not line.strip():
            continue
        f = line.split()
        polls.append([float(f[0])] + [int(x) for x in f[1:]])
    out = {"polls": len(polls)}
    if not polls:
        return out
    samples = [(p[0], p[1]) for p in polls]
    peak = max(n for _, n in samples)
    out["peak"] = peak
    out["seconds_polled"] = samples[-1][0]
    gaps = [b[0] - a[0] for a, b in zip(samples, samples[1:])]
    out["poll_interval_median"] = (sorted(gaps)[len(gaps) // 2]
                                   if gaps else None)
    # Rules waiting for the offload thread: if they pile up, it (or the
    # rate limit) is the bottleneck; if not, the offers are.
    out["pending_max"] = max(p[2] for p in polls)
    # The first poll at the peak: what had been removed by then, and
    # ovs-vswitchd's RssAnon.
    at = next(p for p in polls if p[1] == peak)
    out["peak_seconds"] = at[0]
    out["removed_at_peak"] = at[4]
    out["rss_anon_kb_at_peak"] = at[8] if len(at) > 8 else None
    target = streams if peak >= streams else peak
    t, gap = crossing(samples, target) if target else (None, None)
    out["target"] = target
    out["seconds"] = t
    out["resolution"] = gap
    out["rules_per_s"] = target / t if t else None
    for pct in (50, 90, 99):
        out["seconds_%d" % pct] = crossing(samples, streams * pct / 100)[0]
    return out


def perf_symbols(run):
    """{symbol: self samples} of the PMD thread, and the total."""
    syms, total = {}, 0
    for line in read(os.path.join(run, "perf-report.txt")).splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(\d+)\s+\[[.k]\]\s+(\S+)", line)
        if m:
            n = int(m.group(2))
            syms[m.group(3)] = syms.get(m.group(3), 0) + n
            total += n
    return syms, total


def perf_children(run):
    """{symbol: % of the samples in it or in what it called} (perf report
    --children, from the DWARF call graphs)."""
    out = {}
    text = read(os.path.join(run, "perf-report-children.txt"))
    for line in text.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+([\d.]+)%\s+\d+\s+\[[.k]\]\s+(\S+)",
                     line)
        if m:
            out[m.group(3)] = out.get(m.group(3), 0.0) + float(m.group(1))
    return out


def histogram(text):
    """The cycles/it histogram of pmd-perf-show: [(upper wall, count)],
    the last wall None (the '>' bin)."""
    bins, on = [], False
    for line in text.splitlines():
        if line.startswith("Histograms"):
            on = True
            continue
        if not on:
            continue
        if line.startswith("---"):
            break
        f = line.split()
        if len(f) < 2 or f[0] == "cycles/it":
            continue
        if f[0] == ">":
            bins.append((None, int(f[1])))
            break
        if f[0].isdigit() and f[1].isdigit():
            bins.append((int(f[0]), int(f[1])))
    return bins


def worst_iteration(text, tsc_hz, limit_us=100):
    """The highest non-empty bin of cycles/it: (low, high) in cycles (high
    None for the '>' bin), and the iterations over 'limit_us': at least
    (bins wholly above) and at most (with the bin that straddles it)."""
    bins = histogram(text)
    out = {}
    if not bins:
        return out
    walls = [w for w, _ in bins]
    hi = None
    for i, (wall, n) in enumerate(bins):
        if n:
            hi = i
    if hi is None:
        return out
    low = walls[hi - 1] if hi > 0 else 0
    high = walls[hi]
    out["worst_cycles_low"] = low
    out["worst_cycles_high"] = high
    if tsc_hz:
        out["worst_us_low"] = low / tsc_hz * 1e6
        out["worst_us_high"] = high / tsc_hz * 1e6 if high else None
        limit = limit_us * tsc_hz / 1e6
        least = most = 0
        for i, (wall, n) in enumerate(bins):
            lo = walls[i - 1] if i > 0 else 0
            if lo >= limit:
                least += n
            if wall is None or wall > limit:
                most += n
        out["iters_over_%dus_min" % limit_us] = least
        out["iters_over_%dus_max" % limit_us] = most
    out["iterations"] = sum(n for _, n in bins)
    return out


def threads(run, phase, seconds):
    """{name: share of a core} of the threads of ovs-vswitchd and the
    generator in 'phase' (install or window), from the schedstat
    snapshots threads-PHASE-start.txt and -end.txt."""
    def load(name):
        out = {}
        for line in read(os.path.join(run, name)).splitlines():
            f = line.split()
            if len(f) == 4 and f[3].isdigit():
                out[(f[0], f[1])] = (f[2], int(f[3]))
        return out
    a = load("threads-%s-start.txt" % phase)
    b = load("threads-%s-end.txt" % phase)
    used = {}
    if seconds:
        for k in b:
            if k in a:
                name = b[k][0]
                used[name] = (used.get(name, 0.0)
                              + (b[k][1] - a[k][1]) / 1e9 / seconds)
    return used


def number(pattern, text, cast=float):
    m = re.search(pattern, text)
    return cast(m.group(1)) if m else None


def upkeep_counter(text):
    """Sums the PMDs' "offload upkeep" lines of fold/show: (cycles,
    calls, longest), or None if the build has none."""
    found = UPKEEP_RE.findall(text)
    if not found:
        return None
    return (sum(int(c) for c, _, _ in found),
            sum(int(k) for _, k, _ in found),
            max(int(m) for _, _, m in found))


def model_bytes(sizes, shape, handles, rules):
    """The e-switch model's estimated malloc()ed bytes per rule: the rule,
    its copied actions (END included) and their copied configurations
    (represented_port, age), and its CONNTRACK handle (one per
    connection) where the rules use one."""
    need = ("rte_flow", "rte_flow_action", "rte_flow_action_ethdev",
            "rte_flow_action_age", "rte_flow_action_handle")
    if not shape or not rules or any(not sizes.get(k) for k in need):
        return None
    actions = shape.split("/")
    b = malloc_chunk(sizes["rte_flow"])
    b += malloc_chunk((len(actions) + 1) * sizes["rte_flow_action"])
    if "represented_port" in actions:
        b += malloc_chunk(sizes["rte_flow_action_ethdev"])
    if "age" in actions:
        b += malloc_chunk(sizes["rte_flow_action_age"])
    b += malloc_chunk(sizes["rte_flow_action_handle"]) * handles / rules
    return b


def ingress_shape(show):
    """The actions of the rule shape that the uplink's rules took."""
    shapes = re.findall(r"port \d+ ingress \S+ -> (\S+): ok", show)
    indirect = [s for s in shapes if "indirect" in s.split("/")]
    if re.search(r"TCP rules tracked by the NIC: [1-9]", show) and indirect:
        return indirect[0]
    plain = [s for s in shapes if "indirect" not in s.split("/")]
    return plain[0] if plain else (shapes[0] if shapes else None)


def failures(show):
    """{reason: (count, last text)} of the uplink's failures."""
    out = {}
    for m in re.finditer(r"^    ([a-z-]+): (\d+) \(last: (.*)\)$", show,
                         re.M):
        out[m.group(1)] = [int(m.group(2)), m.group(3)]
    return out


def row(run, sizes_arg):
    m = meta(run)
    streams = int(m["streams"][0])
    tsc_hz = int(m.get("tsc_hz", ["0"])[0] or 0)
    window = int(m.get("window", ["0"])[0] or 0)
    sizes = {}
    for kv in sizes_arg.split():
        k, _, v = kv.partition("=")
        if v.isdigit():
            sizes[k] = int(v)
    r = {"mode": m["mode"][0], "streams": streams,
         "devargs": m.get("devargs", [""])[0],
         "gen_rate": int(m.get("gen_rate", ["0"])[0]),
         "offload_rate": int(m.get("offload_rate", ["0"])[0]),
         "min_packets": int(m.get("min_packets", ["0"])[0]),
         "fold_capacity": int(m.get("capacity", ["0"])[0]),
         "fold_seconds": int(m.get("fold_seconds", ["0"])[0]),
         "folded": int(m.get("folded", ["0"])[0]),
         "install_outcome": m.get("install_outcome", ["?"])[0],
         "tsc_hz": tsc_hz, "window": window}
    r["install"] = install(run, streams)
    at_mem = counts(m.get("installed_at_mem"))
    r["rules_installed"] = at_mem["installed"]
    r["counts_installed"] = at_mem
    r["counts_window_start"] = counts(m.get("window_start"))
    r["counts_window_end"] = counts(m.get("window_end"))
    show = read(os.path.join(run, "offload-show-installed.txt"))
    show_end = read(os.path.join(run, "offload-show-end.txt"))
    r["failures"] = failures(show_end or show)
    r["conntrack_mode"] = number(r"conntrack mode: (\S+)", show, str)
    r["ct_rules"] = number(r"TCP rules tracked by the NIC: (\d+)", show,
                           int) or 0
    # Threads' CPU, as a share of one core, while installing and in the
    # window; and the offload thread's CPU per rule created (rte_flow
    # calls into the e-switch model included).
    t_inst = float(m.get("install_wall", ["0"])[0] or 0)
    t_win = float(m.get("window_wall", ["0"])[0] or 0)
    r["install_threads"] = threads(run, "install", t_inst)
    r["window_threads"] = threads(run, "window", t_win)
    r["pmd_preemptions"] = int(m.get("pmd_preemptions", ["0"])[0] or 0)
    # The PMD core's /proc/stat line: time the hypervisor stole from it
    # (field 8, in clock ticks of 10 ms) and time it spent on interrupts
    # and softirqs (fields 6 and 7), during the window.
    c0, c1 = m.get("pmd_cpu_stat_start"), m.get("pmd_cpu_stat_end")
    if c0 and c1 and len(c0) >= 9 and len(c1) >= 9:
        d = [int(b) - int(a) for a, b in zip(c0[1:9], c1[1:9])]
        r["pmd_cpu_steal_ms"] = d[7] * 10
        r["pmd_cpu_irq_ms"] = (d[5] + d[6]) * 10
    offl = sum(v for k, v in r["install_threads"].items()
               if k.startswith("hw_offload"))
    created = r["counts_installed"]["created"]
    if created and t_inst:
        r["offload_thread_us_per_rule"] = offl * t_inst / created * 1e6

    # Memory: anonymous memory, folded and then with the rules.
    m0, m1 = ints(m.get("mem_folded")), ints(m.get("mem_installed"))
    if len(m0) == 4 and len(m1) == 4:
        r["mem_kb"] = {"folded": dict(zip(("rss_anon", "anonymous",
                                           "anon_huge", "vm_rss"), m0)),
                       "installed": dict(zip(("rss_anon", "anonymous",
                                              "anon_huge", "vm_rss"), m1))}
        n = r["rules_installed"]
        if n:
            r["mem_per_rule"] = (m1[1] - m0[1]) * 1024 / n
            r["rss_anon_per_rule"] = (m1[0] - m0[0]) * 1024 / n
            r["eswitch_model_per_rule"] = model_bytes(
                sizes, ingress_shape(show), r["ct_rules"], n)
            r["eswitch_shape"] = ingress_shape(show)
    # The same at the first poll that saw the peak (the table's figure):
    # before rules churned, where they did.
    rss_peak = r["install"].get("rss_anon_kb_at_peak")
    if len(m0) == 4 and rss_peak and r["install"].get("peak"):
        r["mem_per_rule_peak"] = ((rss_peak - m0[0]) * 1024
                                  / r["install"]["peak"])
    r["sizes"] = sizes
    # ovs-vswitchd's own records of an offloaded stream, as allocated:
    # the stream's fold_offload, and its connection's (hw-conntrack).
    if sizes.get("fold_offload") and r.get("rules_installed"):
        r["ovs_records_per_rule"] = (
            malloc_chunk(sizes["fold_offload"])
            + malloc_chunk(sizes.get("fold_offload_conn", 0))
            * r["ct_rules"] / r["rules_installed"])

    # The steady state.
    ws, we = r["counts_window_start"], r["counts_window_end"]
    t_counts = float(m.get("counts_wall", ["0"])[0] or 0)
    if t_counts:
        r["nic_pps"] = (we["hw_packets"] - ws["hw_packets"]) / t_counts
    syms, total = perf_symbols(run)
    r["perf_samples"] = total
    if total:
        up = {s: syms[s] for s in UPKEEP if s in syms}
        sw = {s: syms[s] for s in SWEEP if s in syms}
        of = {s: syms[s] for s in OFFER if s in syms}
        # Flat: the self samples of the symbols listed; fold_path_valid
        # (and memcmp, not listed) serve the sweep too.
        r["upkeep_pct_flat"] = 100.0 * sum(up.values()) / total
        r["sweep_pct_flat"] = 100.0 * sum(sw.values()) / total
        r["offer_pct_perf"] = 100.0 * sum(of.values()) / total
        # With the call graphs: the PMD's housekeeping call and all it
        # calls, less the fold cache's sweep and what that calls.
        ch = perf_children(run)
        r["perf_children"] = {k: ch.get(k) for k in
                              ["pmd_thread_main", ROOT] + ROOT_PARTS
                              + SWEEP}
        if ch.get(ROOT) is not None:
            r["sweep_pct_perf"] = ch.get("fp_flowcache_sweep", 0.0)
            r["upkeep_pct_perf"] = ch[ROOT] - r["sweep_pct_perf"]
        else:
            r["sweep_pct_perf"] = r["sweep_pct_flat"]
            r["upkeep_pct_perf"] = r["upkeep_pct_flat"]
        r["upkeep_symbols"] = up
        r["sweep_symbols"] = sw
        r["offer_symbols"] = of
        r["perf_top"] = sorted(syms.items(), key=lambda kv: -kv[1])[:15]
    perf = read(os.path.join(run, "pmd-perf-show.txt"))
    r.update(worst_iteration(perf, tsc_hz))
    r["pmd_rx_packets"] = number(r"Rx packets:\s+(\d+)", perf, int) or 0
    r["pmd_duration"] = number(r"Measurement duration:\s+([\d.]+)", perf)
    r["pmd_used_pct"] = number(r"Used TSC cycles:\s+\d+\s+\(\s*([\d.]+) %",
                               perf)
    u0 = upkeep_counter(read(os.path.join(run, "fold-show-start.txt")))
    u1 = upkeep_counter(read(os.path.join(run, "fold-show-end.txt")))
    if u0 and u1 and window:
        # Between the two fold/show reads, which bracket the window.
        dur = float(m.get("counter_wall", ["0"])[0] or 0) or window
        cyc = u1[0] - u0[0]
        r["upkeep_counter"] = {"cycles": cyc, "calls": u1[1] - u0[1],
                               "longest_cycles": u1[2],
                               "cycles_per_s": cyc / dur}
        if tsc_hz:
            r["upkeep_pct_counter"] = 100.0 * cyc / dur / tsc_hz
            r["upkeep_longest_us"] = u1[2] / tsc_hz * 1e6
    print(json.dumps(r))


def fmt(v, spec="%.0f", none="-"):
    return none if v is None else spec % v


def plots(rows, out):
    made = []
    modes = sorted({r["mode"] for r in rows})
    if len({r["streams"] for r in rows}) < 2:
        return made
    data = os.path.join(out, "offload-scale.dat")
    with open(data, "w") as f:
        for mode in modes:
            f.write("# %s: streams rules/s upkeep%% worst-us "
                    "rules-in-window\n" % mode)
            for r in sorted((r for r in rows if r["mode"] == mode),
                            key=lambda r: r["streams"]):
                f.write("%d %s %s %s %f\n" % (
                    r["streams"],
                    fmt(r["install"].get("rules_per_s"), "%f", "NaN"),
                    fmt(r.get("upkeep_pct_perf"), "%f", "NaN"),
                    fmt(r.get("worst_us_high"), "%f", "NaN"),
                    (r["counts_window_start"]["installed"]
                     + r["counts_window_end"]["installed"]) / 2))
            f.write("\n\n")
    for name, x, col, label, xlabel in (
            ("rules", 1, 2, "rules installed per second", "streams sent"),
            ("upkeep", 5, 3, "offload upkeep, % of the PMD",
             "rules installed in the window (mean)"),
            ("worst", 5, 4, "worst PMD iteration (us, bin's upper bound)",
             "rules installed in the window (mean)")):
        png = "offload-scale-%s.png" % name
        path = os.path.join(out, png)
        script = "\n".join([
            "set terminal png size 800,500",
            "set output %s" % report.gnuplot_str(path),
            "set title %s" % report.gnuplot_str(
                "vxlan-ct-esw on the test e-switch: %s" % label),
            "set logscale x", "set xlabel %s" % report.gnuplot_str(xlabel),
            "set ylabel %s" % report.gnuplot_str(label),
            "set yrange [0:*]",
            "set key outside bottom center horizontal",
            "plot " + ", ".join(
                "%s index %d using %d:%d with linespoints title %s"
                % (report.gnuplot_str(data), i, x, col,
                   report.gnuplot_str(mode))
                for i, mode in enumerate(modes))])
        if report.run_gnuplot(script, path, "offload-scale"):
            made.append(png)
    return made


def share(threads, prefix):
    return sum(v for k, v in threads.items() if k.startswith(prefix))


def markdown(rows, info):
    lines = [
        "# Offload scale on the test e-switch", "",
        "Machine: %s, %d cores, kernel %s; DPDK %s; Foldpath %s." % (
            info["cpu"], info["cores"], info["kernel"], info["dpdk"],
            info["foldpath_commit"]), "",
        "vxlan-ct-esw, ingress only, 64-byte TCP frames, on the TEST "
        "E-SWITCH PMD: a software model inside ovs-vswitchd (hashed "
        "rule lookup), not a NIC. *rules installed*: at the end of "
        "the wait, and its peak if the rules did not all get there. "
        "*rules/s*: N (or the peak) over the time from fold-offload=true "
        "to the poll that saw it. *offload thread us/rule*: the offload "
        "thread's CPU per rule created (the e-switch's rte_flow calls "
        "included). *rules in window*: at the start and end of the "
        "steady-state window, in which the next columns were measured. "
        "*upkeep % (perf)*: the PMD's cpu-clock samples in its "
        "housekeeping call and what that calls, less the fold cache "
        "sweep (DWARF call graphs); *counter*: fold/show's offload "
        "upkeep cycles over the TSC, and its longest call (builds that "
        "have it). *worst iteration*: the highest non-empty bin of "
        "pmd-perf-show's cycles/it histogram (its bounds); *> 100 us*: "
        "iterations in bins wholly above 100 us (with the bin that "
        "straddles it), whatever their cause. *memory*: ovs-vswitchd's "
        "anonymous memory grown per rule, at the first poll that saw the "
        "peak; the e-switch model's rules are malloc()ed in "
        "ovs-vswitchd too, and *e-switch est.* is their share.", "",
        "| mode | streams | rules installed | rules/s "
        "| offload thread us/rule | rules in window | upkeep % (perf) "
        "| upkeep % (counter) | longest upkeep call us "
        "| worst iteration us | > 100 us | memory per offloaded stream B "
        "| e-switch est. B |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:"
        "|---:|"]
    for r in rows:
        inst = r["install"]
        installed = "%d" % r.get("rules_installed", 0)
        if r["install_outcome"] != "reached":
            installed += " (%s; peak %d)" % (r["install_outcome"],
                                             inst.get("peak", 0))
        worst = "-"
        if r.get("worst_us_high") is not None:
            worst = "%.0f-%.0f" % (r["worst_us_low"], r["worst_us_high"])
        elif r.get("worst_us_low") is not None:
            worst = "> %.0f" % r["worst_us_low"]
        over = "-"
        if "iters_over_100us_min" in r:
            a, b = r["iters_over_100us_min"], r["iters_over_100us_max"]
            over = "%d" % a if a == b else "%d-%d" % (a, b)
        lines.append(
            "| %s | %d | %s | %s | %s | %d-%d | %s | %s | %s | %s | %s "
            "| %s | %s |" % (
                r["mode"], r["streams"], installed,
                fmt(inst.get("rules_per_s")),
                fmt(r.get("offload_thread_us_per_rule"), "%.1f"),
                r["counts_window_start"]["installed"],
                r["counts_window_end"]["installed"],
                fmt(r.get("upkeep_pct_perf"), "%.2f"),
                fmt(r.get("upkeep_pct_counter"), "%.2f"),
                fmt(r.get("upkeep_longest_us"), "%.1f"),
                worst, over,
                fmt(r.get("mem_per_rule_peak", r.get("mem_per_rule"))),
                fmt(r.get("eswitch_model_per_rule"))))
    lines += ["", "## Details", ""]
    for r in rows:
        inst = r["install"]
        it, wt = r.get("install_threads", {}), r.get("window_threads", {})
        lines.append(
            "- **%s, %d streams**: %d folded in %d s (generator %s pps). "
            "Rules: %d of %d (%s), peak %d at %s s (%d removed by then); "
            "50/90/99 %% of N at %s/%s/%s s; a poll every %s s; at most "
            "%d pending; created %d, removed %d by the end of the "
            "wait%s." % (
                r["mode"], r["streams"], r["folded"], r["fold_seconds"],
                r["gen_rate"] or "full-speed",
                r.get("rules_installed", 0), r["streams"],
                r["install_outcome"], inst.get("peak", 0),
                fmt(inst.get("peak_seconds"), "%.2f"),
                inst.get("removed_at_peak", 0),
                fmt(inst.get("seconds_50"), "%.2f"),
                fmt(inst.get("seconds_90"), "%.2f"),
                fmt(inst.get("seconds_99"), "%.2f"),
                fmt(inst.get("poll_interval_median"), "%.3f"),
                inst.get("pending_max", 0),
                r["counts_installed"]["created"],
                r["counts_installed"]["removed"],
                "".join("; %s failures: %d (last: %s)" % (k, v[0], v[1])
                        for k, v in r["failures"].items())))
        lines.append(
            "  Installing, share of a core: e-switch thread %.2f, offload "
            "thread %.2f. Window: the e-switch forwarded %s pps and the "
            "PMD received %d packets; e-switch thread %.2f, generator "
            "%.2f of a core; the PMD was preempted %d times, its core "
            "had %s ms stolen by the hypervisor and %s ms of interrupts."
            % (
                share(it, "fpesw"), share(it, "hw_offload"),
                fmt(r.get("nic_pps")), r.get("pmd_rx_packets", 0),
                share(wt, "fpesw"), share(wt, "fp-streamgen"),
                r.get("pmd_preemptions", 0), fmt(r.get("pmd_cpu_steal_ms")),
                fmt(r.get("pmd_cpu_irq_ms"))))
        ch = r.get("perf_children") or {}
        lines.append(
            "  PMD profile (%d samples): housekeeping %s %%, of which the "
            "fold cache sweep %s %% and the offload upkeep %s %% "
            "(fold_offload_check %s %%); flat sum of the upkeep symbols "
            "%s %%; offers %s %%." % (
                r.get("perf_samples", 0), fmt(ch.get(ROOT), "%.2f"),
                fmt(r.get("sweep_pct_perf"), "%.2f"),
                fmt(r.get("upkeep_pct_perf"), "%.2f"),
                fmt(ch.get("fold_offload_check"), "%.2f"),
                fmt(r.get("upkeep_pct_flat"), "%.2f"),
                fmt(r.get("offer_pct_perf"), "%.2f")))
        if r.get("upkeep_counter"):
            u = r["upkeep_counter"]
            lines.append("  Upkeep counter: %d cycles in %d calls in the "
                         "window, longest %d cycles." % (
                             u["cycles"], u["calls"], u["longest_cycles"]))
        if r.get("mem_per_rule") is not None:
            lines.append(
                "  Memory: RssAnon at the peak, %s B per rule; after the "
                "wait, Anonymous %+d kB for %d rules (%s B per rule). "
                "Estimated: e-switch model %s B (shape %s), ovs-vswitchd's "
                "offload records %s B." % (
                    fmt(r.get("mem_per_rule_peak")),
                    r["mem_kb"]["installed"]["anonymous"]
                    - r["mem_kb"]["folded"]["anonymous"],
                    r["rules_installed"], fmt(r["mem_per_rule"]),
                    fmt(r.get("eswitch_model_per_rule")),
                    r.get("eswitch_shape"),
                    fmt(r.get("ovs_records_per_rule"))))
    lines += ["", "Upkeep symbols (flat sum): %s. Sweep: %s. Offers: %s."
              % (", ".join(UPKEEP), ", ".join(SWEEP), ", ".join(OFFER)),
              ""]
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) >= 9 and sys.argv[1] == "poll":
        return poll(sys.argv[2:])
    if len(sys.argv) >= 3 and sys.argv[1] == "row":
        row(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
        return 0
    if len(sys.argv) != 4 or sys.argv[1] != "report":
        sys.stderr.write(__doc__)
        return 2
    out, top = sys.argv[2], sys.argv[3]
    rows = report.read_jsonl(os.path.join(out, "offload-scale.jsonl"))
    if not rows:
        sys.stderr.write("offload-scale: no results in %s\n" % out)
        return 1
    info = report.machine(top)
    md = markdown(rows, info)
    pngs = plots(rows, out)
    if pngs:
        md += "\n## Plots\n\n" + "\n".join("![%s](%s)" % (p, p)
                                           for p in pngs) + "\n"
    with open(os.path.join(out, "offload-scale.json"), "w") as f:
        json.dump({"machine": info, "upkeep_symbols": UPKEEP,
                   "sweep_symbols": SWEEP, "offer_symbols": OFFER,
                   "runs": rows}, f, indent=1)
    with open(os.path.join(out, "offload-scale.md"), "w",
              encoding="utf-8") as f:
        f.write(md)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

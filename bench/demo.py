#!/usr/bin/env python3
"""make demo: the lesson in one command.

Starts location and sun on free loopback ports with --latency 500ms each, so one gateway request
takes at least L = 1.0 s and c connections can at best get c/L req/s. Then runs the course's load,
`wrk -t2 -c20 -d15s --timeout 2s`, against five ways of serving it:
  1. blocking, 1 worker     (the single-threaded dev server of the course's Flask run)
  2. blocking, 4 workers
  3. scale-out: 4 blocking replicas x 4 workers behind cityscape-proxy
  4. async, one process
  5. async with the cache on
and reports requests, req/s, ratio to c/L, avg/p99 latency, timeouts, non-2xx, CPU seconds and peak
RSS of the serving processes. Writes results/demo-<UTC timestamp>.json, .md and .svg.

Usage: bench/demo.py BIN_DIR [--duration 15] [--connections 20] [--out DIR]
"""
import argparse
import os
import sys
import time

import chart
from harness import countdown, cpu_seconds, peak_rss_mib, ratio, start, stop, timestamp, wrk, write_results

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = "/api/sun/97227/US?date=2026-06-21"

SCENARIOS = [  # (short label, description, gateway replicas, gateway flags, behind the proxy)
    ("blocking ×1", "blocking, 1 worker (single-threaded dev server)", 1, ["--mode", "blocking", "--workers", "1"], False),
    ("blocking ×4", "blocking, 4 workers", 1, ["--mode", "blocking", "--workers", "4"], False),
    ("4×4 + proxy", "scale-out: 4 blocking replicas × 4 workers behind cityscape-proxy", 4,
     ["--mode", "blocking", "--workers", "4"], True),
    ("async", "async, one process", 1, ["--mode", "async"], False),
    ("async + cache", "async, cache on (--cache-ttl 60s)", 1, ["--mode", "async", "--cache-ttl", "60s"], False),
]


def run_scenario(binary, upstreams, scenario, options, prefix):
    label, description, replicas, flags, proxied = scenario
    gateways = [start(binary("cityscape-gateway"), "--location-url", upstreams[0], "--sun-url", upstreams[1], *flags)
                for _ in range(replicas)]
    serving = [process for process, _, _ in gateways]
    url = gateways[0][1]
    if proxied:
        backends = [arg for _, base, _ in gateways for arg in ("--backend", base.removeprefix("http://"))]
        proxy, url, _ = start(binary("cityscape-proxy"), "--admin", "off", *backends)
        serving.append(proxy)
    try:
        before = {process.pid: cpu_seconds(process.pid) for process in serving}
        tick = countdown(prefix)
        result = wrk(url + PATH, options.connections, options.duration, options.timeout, progress=tick)
        tick.done()
        cpu = round(sum(cpu_seconds(process.pid) - before[process.pid] for process in serving), 2)
        rss = peak_rss_mib([process.pid for process in serving])
    finally:
        for process in reversed(serving):
            stop(process)
    limit = options.connections / options.latency_s
    return {"scenario": label, "description": description, "processes": len(serving),
            "connections": options.connections, "duration_s": options.duration, **result, "limit_rps": limit,
            "ratio_to_limit": ratio(result["rps"], limit), "ok_ratio_to_limit": ratio(result["ok_rps"], limit),
            "cpu_seconds": cpu, "peak_rss_mib": rss}


def ms(value):
    return "–" if value is None else f"{value:,.0f} ms"


def table(rows):
    lines = ["| scenario | processes | requests | req/s | ratio to c/L | answered in time /s | avg | p99 | timeouts | non-2xx "
             "| CPU s | peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['scenario']} | {row['processes']} | {row['requests']:,} | {row['rps']:,.1f} | "
                     f"{row['ratio_to_limit']:.2f} | {row['ok_rps']:,.1f} | {ms(row['avg_ms'])} | {ms(row['p99_ms'])} | "
                     f"{row['timeouts']:,} | {row['non_2xx']:,} | {row['cpu_seconds']:.2f} | {row['peak_rss_mib']:.0f} MiB |")
    return lines


def explanation(rows, options):
    by = {row["scenario"]: row for row in rows}
    b1, b4, scale, asy, cache = (by[s[0]] for s in SCENARIOS)
    c, timeout = options.connections, options.timeout
    return [
        f"1. Blocking ×1 holds its only thread for the whole L = {options.latency_s:g} s of upstream waiting, so {c} connections "
        f"queue behind one request at a time: {b1['rps']:.1f} req/s, and every request that waits longer than {timeout} "
        f"times out ({b1['timeouts']} of {b1['requests']}).",
        f"2. Blocking ×4 waits on 4 threads: ≈ 4/L = {b4['rps']:.1f} req/s, still {c - 4} connections queue, "
        f"so {b4['timeouts']} of {b4['requests']} time out — threads are the limit, not the CPU (it used {b4['cpu_seconds']:.2f} CPU-s).",
        f"3. Scale-out buys 16 threads for {c} connections with {scale['processes']} processes and "
        f"{scale['peak_rss_mib']:.0f} MiB (async: 1 process, {asy['peak_rss_mib']:.0f} MiB): {scale['rps']:.1f} req/s "
        f"({scale['ratio_to_limit']:.2f} × c/L), and the connections beyond 16 still wait a whole L for a thread "
        f"({scale['timeouts']} timeouts).",
        f"4. Async holds no thread while waiting: one process keeps all {c} requests in flight, {asy['rps']:.1f} req/s "
        f"({asy['ratio_to_limit']:.2f} × c/L), {asy['timeouts']} timeouts, p99 {ms(asy['p99_ms'])}, {asy['peak_rss_mib']:.0f} MiB.",
        f"5. With the cache on the upstream wait is gone after the first request: {cache['rps']:,.0f} req/s — the limit "
        f"was never the CPU but waiting, which async hides and a cache removes.",
    ]


def write_chart(result, path):
    """The SVG chart of a demo result (the JSON this script writes)."""
    rows, limit, timeout = result["scenarios"], result["limit_rps"], result["timeout"]
    chart.write(path, f"wrk -c{result['connections']} -d{result['duration_s']}s --timeout {timeout}, "
                f"upstreams 2 × 500 ms (L = {result['latency_s']:g} s)", [row["scenario"] for row in rows], [
                    {"title": "requests per second", "cap": 1.5 * limit, "line": (limit, f"limit c/L = {limit:g} req/s"),
                     "series": [("all responses (wrk)", [row["rps"] for row in rows], chart.PALETTE[0]),
                                (f"answered within {timeout}", [row["ok_rps"] for row in rows], chart.PALETTE[2])]},
                    {"title": f"timeouts (no answer within {timeout})",
                     "series": [("timeouts", [row["timeouts"] for row in rows], chart.PALETTE[3])]},
                ], note=f"{result['date']}, {result['cores']} cores; bars above 1.5 × c/L are cut (zig-zag) and labelled "
                        "with their value")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--duration", type=int, default=15, help="seconds of load per scenario (default 15)")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--timeout", default="2s", help="wrk's per-request timeout (default 2s)")
    parser.add_argument("--out", default=os.path.join(ROOT, "results"), help="where the results go (default results/)")
    options = parser.parse_args()
    options.latency_s = 1.0  # 500 ms at location + 500 ms at sun
    binary = lambda name: os.path.join(options.bin_dir, name)
    for name in ("cityscape-location", "cityscape-sun", "cityscape-gateway", "cityscape-proxy"):
        if not os.access(binary(name), os.X_OK):
            sys.exit(f"demo: {binary(name)} not found — build it first (make release)")

    began = time.monotonic()
    with open("/proc/loadavg") as f:
        load_before = " ".join(f.read().split()[:3])
    estimate = len(SCENARIOS) * (options.duration + 2) + 3
    print(f"Cityscape demo: location and sun at --latency 500ms (one gateway request ≥ {options.latency_s:g} s), "
          f"wrk -t2 -c{options.connections} -d{options.duration}s --timeout {options.timeout} against "
          f"{len(SCENARIOS)} scenarios, about {estimate} s.", flush=True)
    location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
    sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
    rows = []
    try:
        for index, scenario in enumerate(SCENARIOS, 1):
            prefix = f"[{index}/{len(SCENARIOS)}] {scenario[1]}: "
            print(prefix + "starting", flush=True)
            row = run_scenario(binary, (location_url, sun_url), scenario, options, "      ")
            print(f"      {row['rps']:.1f} req/s, {row['timeouts']} timeouts, p99 {ms(row['p99_ms'])}", flush=True)
            rows.append(row)
    finally:
        stop(sun)
        stop(location)

    stamp = timestamp()
    limit = options.connections / options.latency_s
    command = f"bench/demo.py {options.bin_dir}" + (f" --duration {options.duration}" if options.duration != 15 else "")
    header = (f"Cityscape demo {stamp}: {os.cpu_count()} cores, location and sun at --latency 500ms (L = {options.latency_s:g} s), "
              f"`wrk -t2 -c{options.connections} -d{options.duration}s --timeout {options.timeout}`, c/L = {limit:g} req/s, "
              f"`{command}`, load average before {load_before}")
    lines = [header, ""] + table(rows) + [""] + explanation(rows, options)
    base = os.path.join(options.out, f"demo-{stamp}")
    result = {"date": stamp, "cores": os.cpu_count(), "command": command, "latency_s": options.latency_s,
              "connections": options.connections, "duration_s": options.duration, "timeout": options.timeout,
              "limit_rps": limit, "load_before": load_before, "scenarios": rows}
    write_results(base, result, lines)
    write_chart(result, base + ".svg")
    print()
    print("\n".join(lines))
    print(f"\nwrote {base}.json, .md and .svg in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("\ninterrupted: every process started was stopped")

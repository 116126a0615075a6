#!/usr/bin/env python3
"""Gateway benchmark: the course's scenario (blocking x1, blocking x4, async) and async at high concurrency.

Location and sun run with --latency 500ms each, so one gateway request takes at least L = 1.0 s and a
closed-loop load of c connections can at best reach c/L req/s. Every scenario gets a fresh gateway in
front of the same upstreams; all scenarios run in one invocation so their ratios are comparable on a
noisy machine. Reports requests, req/s, ratio to c/L, avg and p99 latency, timeouts, non-2xx, and the
CPU seconds and peak RSS of every process. Writes results/gateway-<timestamp>.json and .md.

Usage: bench/gateway.py BIN_DIR [--skip-high]
"""
import argparse
import datetime
import os

from harness import cpu_seconds, rss_kib, start, stop, write_results, wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENCY_S = 1.0  # 500 ms at location + 500 ms at sun

COURSE = [  # (name, gateway flags, connections, seconds, wrk timeout)
    ("blocking x1", ["--mode", "blocking", "--workers", "1"], 20, 15, "2s"),
    ("blocking x4", ["--mode", "blocking", "--workers", "4"], 20, 15, "2s"),
    ("async", ["--mode", "async"], 20, 15, "2s"),
]
HIGH = [
    ("async c=1000", ["--mode", "async"], 1000, 30, "5s"),
    ("async c=5000", ["--mode", "async"], 5000, 30, "5s"),
]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--skip-high", action="store_true", help="only the course's c=20 scenarios")
    options = parser.parse_args()
    binary = lambda name: os.path.join(options.bin_dir, name)

    location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
    sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
    scenarios = COURSE + ([] if options.skip_high else HIGH)
    rows = []
    for index, (name, flags, connections, seconds, timeout) in enumerate(scenarios, 1):
        print(f"[{index}/{len(scenarios)}] {name}: wrk -t2 -c{connections} -d{seconds}s --timeout {timeout}", flush=True)
        gateway, gateway_url, _ = start(binary("cityscape-gateway"), "--location-url", location_url, "--sun-url", sun_url,
                                        "--queue-limit", "100000", *flags)
        before = {pid: cpu_seconds(pid) for pid in (gateway.pid, location.pid, sun.pid)}
        result = wrk(gateway_url + "/api/sun/97227/US?date=2026-06-21", connections, seconds, timeout)
        cpu = {role: round(cpu_seconds(pid) - before[pid], 2) for role, pid in
               (("gateway", gateway.pid), ("location", location.pid), ("sun", sun.pid))}
        limit = connections / LATENCY_S
        rows.append({"scenario": name, "connections": connections, "seconds": seconds, **result,
                     "limit_rps": limit, "ratio_to_limit": round(result["rps"] / limit, 3), "cpu_seconds": cpu,
                     "gateway_peak_rss_mib": round(rss_kib(gateway.pid, "VmHWM") / 1024, 1)})
        stop(gateway)
    upstream_rss = {"location": round(rss_kib(location.pid, "VmHWM") / 1024, 1), "sun": round(rss_kib(sun.pid, "VmHWM") / 1024, 1)}
    stop(sun)
    stop(location)

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    command = "bench/gateway.py " + options.bin_dir + (" --skip-high" if options.skip_high else "")
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    base = os.path.join(ROOT, "results", f"gateway-{stamp}")
    lines = [f"Gateway benchmark {stamp}, {os.cpu_count()} cores, L = {LATENCY_S} s, `{command}`", "",
             "| scenario | c | requests | req/s | ratio to c/L | avg | p99 | timeouts | non-2xx | CPU s gateway / location / sun | gateway peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        cpu = row["cpu_seconds"]
        lines.append(f"| {row['scenario']} | {row['connections']} | {row['requests']} | {row['rps']:.1f} | {row['ratio_to_limit']:.2f} | "
                     f"{row['avg_ms']:.0f} ms | {row['p99_ms']:.0f} ms | {row['timeouts']} | {row['non_2xx']} | "
                     f"{cpu['gateway']} / {cpu['location']} / {cpu['sun']} | {row['gateway_peak_rss_mib']} MiB |")
    lines += ["", f"Upstream peak RSS: location {upstream_rss['location']} MiB, sun {upstream_rss['sun']} MiB"]
    write_results(base, {"date": stamp, "cores": os.cpu_count(), "command": command, "latency_s": LATENCY_S,
                         "scenarios": rows, "upstream_peak_rss_mib": upstream_rss}, lines)
    print("\n".join(lines))
    print(f"\nwrote {base}.json and .md")


if __name__ == "__main__":
    main()

"""Two gateway builds loaded at the same time: the ratio of their CPU per request, robust to a noisy machine.

A before/after of the async gateway's CPU per request measured one build after the other moves with whatever
else the shared cores do in between (other builds, the scheduler's mood), often by more than the change being
measured. Here both gateways run at once, in front of the same location and sun (`--latency 500ms`, so
L = 1 s), each under its own `wrk -t2 -cC --timeout 5s` started together: whatever disturbs one disturbs the
other, and the ratio of their CPU seconds (utime + stime from /proc) per completed request is what is kept.
Each round starts both gateways afresh; the report gives every round and the median ratio. Running a build
against itself (the same binary twice) shows the method's own spread.

Usage (from the repository root): python3 -m bench.gateway_pair BIN_DIR --baseline-bin DIR [--rounds 3]
    [--seconds 20] [--connections 1000]
Location and sun come from BIN_DIR. Writes results/gateway-pair-<timestamp>.json and .md.
"""
import argparse
import os
import resource
import threading

from tools.cityscape_tools.harness import ROOT, run_main, start, stop
from tools.cityscape_tools.procs import cpu_seconds
from tools.cityscape_tools.results import median, publish_results, timestamp
from tools.cityscape_tools.wrk import wrk

PATH = "/api/sun/97227/US?date=2026-06-21"
POSTAL_DATA = os.path.join(ROOT, "Data", "postal", "postal_codes.tsv.gz")


def paired_round(gateways, location_url, sun_url, connections, seconds):
    """Both gateways under load at once; {build: {cpu_ms_per_request, rps, errors}}."""
    started = {build: start(binary, "--location-url", location_url, "--sun-url", sun_url, "--mode", "async")
               for build, binary in gateways.items()}
    try:
        before = {build: cpu_seconds(process.pid) for build, (process, _, _) in started.items()}
        runs = {}

        def load(build):
            runs[build] = wrk(started[build][1] + PATH, connections, seconds, "5s")

        threads = [threading.Thread(target=load, args=(build,)) for build in started]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return {build: {"cpu_ms_per_request": round((cpu_seconds(process.pid) - before[build]) * 1000 / max(1, runs[build]["requests"]), 4),
                        "rps": runs[build]["rps"],
                        "errors": runs[build]["timeouts"] + runs[build]["socket_errors"] + runs[build]["non_2xx"]}
                for build, (process, _, _) in started.items()}
    finally:
        for process, _, _ in started.values():
            stop(process)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--baseline-bin", required=True, help="directory of the gateway binary to compare with")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=1000, help="wrk connections per gateway")
    options = parser.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gateways = {"baseline": os.path.join(options.baseline_bin, "cityscape-gateway"),
                "this build": os.path.join(options.bin_dir, "cityscape-gateway")}
    load_before = open("/proc/loadavg").read().split()[:3]
    location, location_url, _ = start(os.path.join(options.bin_dir, "cityscape-location"), "--latency", "500ms",
                                      "--postal-data", POSTAL_DATA)
    sun, sun_url, _ = start(os.path.join(options.bin_dir, "cityscape-sun"), "--latency", "500ms")
    rounds = []
    try:
        for number in range(options.rounds):
            print(f"[{number + 1}/{options.rounds}] both gateways, each under wrk -t2 -c{options.connections} -d{options.seconds}s", flush=True)
            rounds.append(paired_round(gateways, location_url, sun_url, options.connections, options.seconds))
    finally:
        stop(sun)
        stop(location)
    load_after = open("/proc/loadavg").read().split()[:3]

    ratios = [row["this build"]["cpu_ms_per_request"] / row["baseline"]["cpu_ms_per_request"] for row in rounds]
    stamp = timestamp()
    command = (f"python3 -m bench.gateway_pair {options.bin_dir} --baseline-bin {options.baseline_bin} --rounds {options.rounds} "
               f"--seconds {options.seconds} --connections {options.connections}")
    lines = [f"Gateway pair {stamp}, {os.cpu_count()} cores, `{command}`, load average before {' '.join(load_before)}, "
             f"at the end {' '.join(load_after)}", "",
             f"Both async gateways at once, each under wrk -t2 -c{options.connections} --timeout 5s, location and sun at --latency 500ms:", "",
             "| round | baseline ms/req | this build ms/req | ratio | req/s (baseline / this build) | errors |", "|---|---|---|---|---|---|"]
    for number, (row, ratio) in enumerate(zip(rounds, ratios), start=1):
        lines.append(f"| {number} | {row['baseline']['cpu_ms_per_request']:.4f} | {row['this build']['cpu_ms_per_request']:.4f} | "
                     f"{ratio:.3f} | {row['baseline']['rps']:.0f} / {row['this build']['rps']:.0f} | "
                     f"{row['baseline']['errors']} / {row['this build']['errors']} |")
    lines += ["", f"Median ratio (this build ÷ baseline): **{median(ratios):.3f}**"]
    base = os.path.join(ROOT, "results", f"gateway-pair-{stamp}")
    publish_results(base, {"date": stamp, "command": command, "load_before": load_before, "load_after": load_after,
                           "rounds": rounds, "ratios": ratios}, lines)


if __name__ == "__main__":
    run_main(main)

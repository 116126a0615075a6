"""Location and sun as servers, before and after: CPU per request at c=1000 and the accept path at c=10000.

Issue 15's measure of the services' own serving cost, for two builds in one run so their ratio survives a
noisy machine: each service with --latency 500ms under its own `wrk -t2 -c1000 --timeout 5s` (location and
sun side by side, `bench.foundation`'s measure), CPU seconds (utime + stime from /proc) ÷ requests completed, rounds interleaved between
the two builds, medians. Then location alone under `wrk -t2 -c10000 --timeout 5s` per build (file-descriptor
limit raised to the hard limit): req/s, timeouts, p99 and the kernel's TcpExtListenOverflows (`nstat`)
during the run, which counts the connections the accept queue dropped.

Usage (from the repository root): python3 -m bench.servers BIN_DIR --baseline-bin DIR [--rounds 3] [--seconds 15]
    [--skip-c10000]
Writes results/servers-<timestamp>.json and .md.
"""
import argparse
import os
import resource
import subprocess

from bench import foundation
from tools.cityscape_tools.harness import ROOT, run_main, start, stop
from tools.cityscape_tools.procs import cpu_seconds
from tools.cityscape_tools.results import median, publish_results, timestamp
from tools.cityscape_tools.wrk import parse_wrk

PATHS = {name: path for name, (_, path) in foundation.CPU_TARGETS.items()}
POSTAL_DATA = os.path.join(ROOT, "Data", "postal", "postal_codes.tsv.gz")


def service_args(name):
    # The baseline binary may live outside the repository, where it would not find the postal table itself.
    return ["--latency", "500ms", *(["--postal-data", POSTAL_DATA] if name == "location" else [])]


def wrk(url, threads, connections, seconds):
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s", "--latency", url]
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, timeout=seconds + 90, check=True).stdout)


def listen_overflows():
    out = subprocess.run(["nstat", "-az", "TcpExtListenOverflows"], capture_output=True, text=True).stdout
    return next((int(line.split()[1]) for line in out.splitlines() if line.startswith("TcpExtListenOverflows")), 0)


def cpu_round(bin_dir, seconds):
    """One round of `bench.foundation`'s measure (location and sun side by side under wrk -c1000) for one build."""
    return foundation.cpu_per_request(os.path.join(bin_dir, "cityscape-location"), os.path.join(bin_dir, "cityscape-sun"), seconds, 1)[0]


def connection_storm(bin_dir, seconds):
    """Location alone under wrk -t2 -c10000."""
    process, base, _ = start(os.path.join(bin_dir, "cityscape-location"), *service_args("location"))
    overflows, cpu = listen_overflows(), cpu_seconds(process.pid)
    run = wrk(base + PATHS["location"], 2, 10000, seconds)
    result = {"rps": run["rps"], "requests": run["requests"], "timeouts": run["timeouts"], "non_2xx": run["non_2xx"],
              "p99_ms": run["p99_ms"], "listen_overflows": listen_overflows() - overflows,
              "cpu_ms_per_request": round((cpu_seconds(process.pid) - cpu) * 1000 / max(1, run["requests"]), 4)}
    stop(process)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--baseline-bin", required=True, help="directory of the binaries to compare with (e.g. main's release build)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--skip-c10000", action="store_true")
    options = parser.parse_args()
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    builds = {"baseline": options.baseline_bin, "this build": options.bin_dir}
    load_before = open("/proc/loadavg").read().split()[:3]
    rounds = {build: [] for build in builds}
    for number in range(options.rounds):
        for build, bin_dir in builds.items():
            print(f"[{number + 1}/{options.rounds}] {build}: location and sun, wrk -t2 -c1000 -d{options.seconds}s", flush=True)
            rounds[build].append(cpu_round(bin_dir, options.seconds))
    storms = {}
    if not options.skip_c10000:
        for build, bin_dir in builds.items():
            print(f"{build}: location, wrk -t2 -c10000 -d{options.seconds}s", flush=True)
            storms[build] = connection_storm(bin_dir, options.seconds)
    load_after = open("/proc/loadavg").read().split()[:3]

    stamp = timestamp()
    command = f"python3 -m bench.servers {options.bin_dir} --baseline-bin {options.baseline_bin} --rounds {options.rounds} --seconds {options.seconds}"
    lines = [f"Servers benchmark {stamp}, {os.cpu_count()} cores, `{command}`, load average before {' '.join(load_before)}, "
             f"at the end {' '.join(load_after)}", "",
             "CPU ms per request at --latency 500ms, wrk -t2 -c1000 --timeout 5s (location and sun side by side):", "",
             "| service | build | per round | median | req/s per round | errors |", "|---|---|---|---|---|---|"]
    medians = {}
    for name in PATHS:
        for build in builds:
            rows = [row[name] for row in rounds[build]]
            medians[(name, build)] = median([row["cpu_ms_per_request"] for row in rows])
            lines.append(f"| {name} | {build} | {' / '.join('%.4f' % r['cpu_ms_per_request'] for r in rows)} | "
                         f"{medians[(name, build)]:.4f} | {' / '.join('%.0f' % r['rps'] for r in rows)} | {sum(r['errors'] for r in rows)} |")
    if storms:
        lines += ["", f"Location under wrk -t2 -c10000 -d{options.seconds}s --timeout 5s:", "",
                  "| build | req/s | timeouts | non-2xx | p99 | accept-queue overflows | CPU ms/req |", "|---|---|---|---|---|---|---|"]
        for build, row in storms.items():
            lines.append(f"| {build} | {row['rps']:.0f} | {row['timeouts']} | {row['non_2xx']} | {row['p99_ms']} ms | "
                         f"{row['listen_overflows']} | {row['cpu_ms_per_request']:.4f} |")
    base = os.path.join(ROOT, "results", f"servers-{stamp}")
    publish_results(base, {"date": stamp, "command": command, "load_before": load_before, "load_after": load_after,
                           "rounds": rounds, "c10000": storms}, lines)


if __name__ == "__main__":
    run_main(main)

"""Foundation benchmark: location lookup and sun computation vs a trivial route, in one run.

Starts the release binaries on free loopback ports, measures start-up (exec → first 200 from
/healthz) and memory of the location service with the full data set, then runs wrk against
  - /healthz of each service (the trivial Hummingbird route: same middleware chain, no work),
  - a location lookup, and
  - a sun computation,
interleaved, and reports req/s, the ratio to the trivial route, p99 and RSS. Then issue 15's measure of
CPU per request: location and sun with --latency 500ms side by side, each under its own
`wrk -c1000 --timeout 5s`, CPU seconds (utime + stime from /proc) ÷ requests answered, per round.
Writes results/foundation-<timestamp>.json and .md.

Usage (from the repository root): python3 -m bench.foundation BIN_DIR [--duration 10] [--connections 100] [--rounds 3]
    [--cpu-duration 15]
"""
import argparse
import datetime
import os

import threading

from tools.cityscape_tools.harness import start, stop
from tools.cityscape_tools.procs import cpu_seconds, rss_kib
from tools.cityscape_tools.results import publish_results
from tools.cityscape_tools.wrk import wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cpu-duration", type=int, default=15, help="seconds per CPU-per-request round (0 skips it)")
    options = parser.parse_args()
    location_binary = os.path.join(options.bin_dir, "cityscape-location")
    sun_binary = os.path.join(options.bin_dir, "cityscape-sun")

    # Start-up: three cold starts of the location service with all 1,080,401 codes.
    startups = []
    for _ in range(3):
        process, _, seconds = start(location_binary)
        startups.append({"seconds_to_healthy": round(seconds, 3), "rss_mib": round(rss_kib(process.pid) / 1024, 1),
                         "peak_rss_mib": round(rss_kib(process.pid, "VmHWM") / 1024, 1)})
        stop(process)

    location, location_url, _ = start(location_binary)
    sun, sun_url, _ = start(sun_binary)
    targets = {
        "location /healthz (trivial)": location_url + "/healthz",
        "location lookup": location_url + "/api/location/97227/US",
        "sun /healthz (trivial)": sun_url + "/healthz",
        "sun computation": sun_url + "/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0",
    }
    runs = {name: [] for name in targets}
    total = options.rounds * len(targets)
    for round_number in range(options.rounds):
        for index, (name, url) in enumerate(targets.items()):
            step = round_number * len(targets) + index + 1
            print(f"[{step}/{total}] wrk -c{options.connections} -d{options.duration}s {name}", flush=True)
            runs[name].append(wrk(url, options.connections, options.duration))
    memory = {"location_rss_mib": round(rss_kib(location.pid) / 1024, 1), "sun_rss_mib": round(rss_kib(sun.pid) / 1024, 1)}
    stop(sun)
    stop(location)

    cpu_rounds = cpu_per_request(location_binary, sun_binary, options.cpu_duration, options.rounds) if options.cpu_duration else []

    def median(name, key):
        values = sorted(run[key] for run in runs[name])
        return values[len(values) // 2]

    summary = {}
    for name in targets:
        trivial = "location /healthz (trivial)" if name.startswith("location") else "sun /healthz (trivial)"
        summary[name] = {
            "median_rps": median(name, "rps"),
            "ratio_to_trivial": round(median(name, "rps") / median(trivial, "rps"), 3),
            "median_p99_ms": median(name, "p99_ms"),
            "errors": sum(run["socket_errors"] + run["non_2xx"] for run in runs[name]),
        }
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    command = " ".join(["python3 -m bench.foundation", options.bin_dir, f"--duration {options.duration}",
                        f"--connections {options.connections}", f"--rounds {options.rounds}"])
    cpu_median = {name: sorted(r[name]["cpu_ms_per_request"] for r in cpu_rounds)[len(cpu_rounds) // 2] for name in CPU_TARGETS}
    result = {"cpu_per_request": {"rounds": cpu_rounds, "median_ms": cpu_median} if cpu_rounds else None, "date": stamp, "cores": os.cpu_count(), "command": command, "startup": startups,
              "memory_after_load": memory, "summary": summary, "runs": runs}
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    base = os.path.join(ROOT, "results", f"foundation-{stamp}")
    lines = [f"Foundation benchmark {stamp}, {os.cpu_count()} cores, `{command}`", "",
             "| target | median req/s | ratio to trivial route | median p99 | errors |", "|---|---|---|---|---|"]
    for name, row in summary.items():
        lines.append(f"| {name} | {row['median_rps']:.0f} | {row['ratio_to_trivial']:.2f} | {row['median_p99_ms']:.2f} ms | {row['errors']} |")
    lines += ["", "| location start | to healthy | RSS | peak RSS |", "|---|---|---|---|"]
    for index, row in enumerate(startups, 1):
        lines.append(f"| cold start {index} | {row['seconds_to_healthy']} s | {row['rss_mib']} MiB | {row['peak_rss_mib']} MiB |")
    lines += ["", f"RSS after the load: location {memory['location_rss_mib']} MiB, sun {memory['sun_rss_mib']} MiB"]
    if cpu_rounds:
        lines += ["", f"CPU per request with --latency 500ms under wrk -c1000 -d{options.cpu_duration}s --timeout 5s, side by side:", "",
                  "| service | CPU ms/request per round | median | req/s per round | errors |", "|---|---|---|---|---|"]
        for name in CPU_TARGETS:
            rows = [r[name] for r in cpu_rounds]
            per_round = " / ".join("%.3f" % r["cpu_ms_per_request"] for r in rows)
            rates = " / ".join("%.0f" % r["rps"] for r in rows)
            errors = sum(r["errors"] for r in rows)
            lines.append(f"| {name} | {per_round} | {cpu_median[name]:.3f} | {rates} | {errors} |")
    publish_results(base, result, lines)


CPU_TARGETS = {
    "location": ("cityscape-location", "/api/location/97227/US"),
    "sun": ("cityscape-sun", "/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0"),
}


def cpu_per_request(location_binary, sun_binary, duration, rounds):
    """Issue 15's measure, location and sun side by side so both see the same machine state; one fresh pair per round."""
    binaries = {"location": location_binary, "sun": sun_binary}
    results = []
    for round_number in range(rounds):
        print(f"[CPU {round_number + 1}/{rounds}] --latency 500ms, wrk -c1000 -d{duration}s on location and sun at once", flush=True)
        started = {name: start(binaries[name], "--latency", "500ms") for name in CPU_TARGETS}
        before = {name: cpu_seconds(process.pid) for name, (process, _, _) in started.items()}
        runs = {}

        def load(name):
            runs[name] = wrk(started[name][1] + CPU_TARGETS[name][1], 1000, duration, timeout="5s")

        threads = [threading.Thread(target=load, args=(name,)) for name in CPU_TARGETS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        row = {}
        for name, (process, _, _) in started.items():
            spent = cpu_seconds(process.pid) - before[name]
            run = runs[name]
            row[name] = {"cpu_ms_per_request": round(spent * 1000 / max(1, run["requests"]), 4), "rps": run["rps"],
                         "errors": run["socket_errors"] + run["non_2xx"]}
            stop(process)
        results.append(row)
    return results


if __name__ == "__main__":
    main()

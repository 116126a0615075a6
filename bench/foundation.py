"""Foundation benchmark: location lookup and sun computation vs a trivial route, in one run.

Starts the release binaries on free loopback ports, measures start-up (exec → first 200 from
/healthz) and memory of the location service with the full data set, then runs wrk against
  - /healthz of each service (the trivial Hummingbird route: same middleware chain, no work),
  - a location lookup, and
  - a sun computation,
interleaved, and reports req/s, the ratio to the trivial route, p99 and RSS.
Writes results/foundation-<timestamp>.json and .md.

Usage (from the repository root): python3 -m bench.foundation BIN_DIR [--duration 10] [--connections 100] [--rounds 3]
"""
import argparse
import datetime
import os

from tools.cityscape_tools.harness import start, stop
from tools.cityscape_tools.procs import rss_kib
from tools.cityscape_tools.results import write_results
from tools.cityscape_tools.wrk import wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
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
    result = {"date": stamp, "cores": os.cpu_count(), "command": command, "startup": startups,
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
    write_results(base, result, lines)
    print("\n".join(lines))
    print(f"\nwrote {base}.json and .md")


if __name__ == "__main__":
    main()

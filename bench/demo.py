"""make demo: the lesson in one command, as a lab report.

Starts location and sun on free loopback ports with --latency 500ms each, so one gateway request
takes at least L = 1.0 s and c connections can at best get c/L req/s. Then, for five ways of serving:
  1. blocking, 1 worker     (the single-threaded dev server of the course's Flask run)
  2. blocking, 4 workers
  3. scale-out: 4 blocking replicas x 4 workers behind cityscape-proxy
  4. async, one process
  5. async with the cache on
it runs the course's load, `wrk -t2 -c20 -d15s --timeout 2s` (the table: requests, req/s, ratio to c/L,
avg/p99, timeouts, CPU, threads, peak RSS), and with cityscape-openload (bench/openload):
  - the c=20 load again as a closed loop with every request recorded (timelines, Little's law against
    the services' own in-flight gauges), for scenarios 1–4;
  - open-loop capacity sweeps from 0.25× to 2× of N/L for blocking ×4 and scale-out (run side by side:
    together they need a few dozen req/s), and for async up to where this machine saturates;
  - the generator's own accuracy at 2,000 req/s against scenario 5;
  - one slow replica (bench/slow_replica.py): scale-out with one of the 4 replicas at 3 × L, open loop at
    70 % of N/L, for the proxy's round-robin, least-outstanding and p2c, nginx least_conn and HAProxy
    leastconn (when installed), beside an all-healthy baseline.
Writes results/demo-<UTC timestamp>.json (all data), .md (the tables) and .html (one self-contained page
with inline SVG charts).

Usage (from the repository root): python3 -m bench.demo BIN_DIR [--quick] [--duration 15] [--connections 20] [--out DIR]
"""
import argparse
import math
import os
import sys
import time

from bench import lab, lab_report, slow_replica
from tools.cityscape_tools import charts, procs
from tools.cityscape_tools.harness import run_main, start, stop
from tools.cityscape_tools.procs import cpu_seconds, loadavg, peak_rss_mib
from tools.cityscape_tools.results import ratio, timestamp, write_results
from tools.cityscape_tools.wrk import countdown, wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = lab.PATH

SCENARIOS = [  # (short label, description, gateway replicas, gateway flags, behind the proxy, id, workers N)
    ("blocking ×1", "blocking, 1 worker (single-threaded dev server)", 1, ["--mode", "blocking", "--workers", "1"], False,
     "blocking1", 1),
    ("blocking ×4", "blocking, 4 workers", 1, ["--mode", "blocking", "--workers", "4"], False, "blocking4", 4),
    ("4×4 + proxy", "scale-out: 4 blocking replicas × 4 workers behind cityscape-proxy", 4,
     ["--mode", "blocking", "--workers", "4"], True, "scaleout", 16),
    # The async row fixes N = --max-in-flight at its ceiling rather than the adaptive default, so its knee is where the
    # CPU runs out, as a learner predicts from N/L, and not where the adaptive limit starts refusing.
    ("async", "async, one process", 1, ["--mode", "async", "--max-in-flight", "10000"], False, "async", 10000),
    ("async + cache", "async, cache on (--cache-ttl 60s)", 1, ["--mode", "async", "--cache-ttl", "60s"], False, "cache", None),
]
TIMELINES = ("blocking1", "blocking4", "scaleout", "async")
SWEPT = ("blocking4", "scaleout", "async")


class Profile:
    """How long each part runs: the full lab (≤ 5 min) or --quick (≤ 90 s, for tests and the impatient)."""

    def __init__(self, quick, duration):
        self.quick = quick
        self.wrk_s = duration if duration is not None else (2 if quick else 15)
        self.timeline_s = 2 if quick else 8
        self.multiples = [0.5, 1, 1.5, 2] if quick else [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]
        self.async_start, self.async_factor = (100, 3) if quick else (100, math.sqrt(2))
        self.async_min_steps, self.async_max_steps = (3, 3) if quick else (8, 12)
        self.accuracy_rate, self.accuracy_s = 2000, (1 if quick else 4)
        self.slow_replica_s = 2 if quick else 6
        # Unmeasured load before each balancing configuration: long enough for outlier ejection to learn the
        # slow replica in the full run; --quick only smoke-tests the page, so its ejection row shows the learning.
        self.slow_replica_warmup_s = 0 if quick else slow_replica.WARMUP_S
        # --quick lets a configuration's leftovers overlap the next one's warm-up rather than wait them out, and
        # leaves out the nginx and HAProxy anchors.
        self.slow_replica_settle_s = 4 if quick else None

    def step_seconds(self, rate):
        """Long enough for a few dozen requests at low rates, short at high ones."""
        if self.quick:
            return 2
        return round(min(6, max(4, 40 / rate)), 1)


def start_deployment(binary, upstreams, scenario):
    label, _, replicas, flags, proxied, _, _ = scenario
    gateways = []
    for _ in range(replicas):
        process, base, _ = start(binary("cityscape-gateway"), "--location-url", upstreams[0], "--sun-url", upstreams[1], *flags)
        gateways.append((process, base))
    if not proxied:
        return lab.Deployment(label, gateways)
    proxy, url, admin = lab.start_proxy(binary("cityscape-proxy"), [base for _, base in gateways])
    return lab.Deployment(label, gateways, proxy, url, admin)


def course_row(deployment, scenario, options, prefix):
    """The course's wrk run against one deployment, with what it cost the serving processes."""
    label, description, *_ = scenario
    serving = deployment.processes
    before = {process.pid: cpu_seconds(process.pid) for process in serving}
    tick = countdown(prefix)
    result = wrk(deployment.url + PATH, options.connections, options.profile.wrk_s, options.timeout, progress=tick)
    tick.done()
    cpu = round(sum(cpu_seconds(process.pid) - before[process.pid] for process in serving), 2)
    rss = peak_rss_mib([process.pid for process in serving])
    threads = procs.threads([process.pid for process in serving])
    limit = options.connections / options.latency_s
    return {"scenario": label, "description": description, "processes": len(serving),
            "connections": options.connections, "duration_s": options.profile.wrk_s, **result, "limit_rps": limit,
            "ratio_to_limit": ratio(result["rps"], limit), "ok_ratio_to_limit": ratio(result["ok_rps"], limit),
            "cpu_seconds": cpu, "peak_rss_mib": rss, "threads": threads,
            "cpu_ms_per_1k": round(cpu * 1e6 / result["requests"], 1) if result["requests"] else None}


def ms(value):
    return "–" if value is None else f"{value:,.0f} ms"


def table(rows):
    lines = ["| scenario | processes | requests | req/s | ratio to c/L | answered in time /s | avg | p99 | timeouts | non-2xx "
             "| CPU s | peak RSS | threads | CPU ms / 1k req |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['scenario']} | {row['processes']} | {row['requests']:,} | {row['rps']:,.1f} | "
                     f"{row['ratio_to_limit']:.2f} | {row['ok_rps']:,.1f} | {ms(row['avg_ms'])} | {ms(row['p99_ms'])} | "
                     f"{row['timeouts']:,} | {row['non_2xx']:,} | {row['cpu_seconds']:.2f} | {row['peak_rss_mib']:.0f} MiB | "
                     f"{row['threads']} | {lab.fmt(row['cpu_ms_per_1k'])} |")
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


def course_svg(result):
    """The SVG bar chart of the course run."""
    rows, limit, timeout = result["scenarios"], result["limit_rps"], result["timeout"]
    return charts.render(f"wrk -c{result['connections']} -d{result['duration_s']}s --timeout {timeout}, "
                        f"upstreams 2 × 500 ms (L = {result['latency_s']:g} s)", [row["scenario"] for row in rows], [
                            {"title": "requests per second", "cap": 1.5 * limit, "line": (limit, f"limit c/L = {limit:g} req/s"),
                             "series": [("all responses (wrk)", [row["rps"] for row in rows], charts.PALETTE[0]),
                                        (f"answered within {timeout}", [row["ok_rps"] for row in rows], charts.PALETTE[2])]},
                            {"title": f"timeouts (no answer within {timeout})",
                             "series": [("timeouts", [row["timeouts"] for row in rows], charts.PALETTE[3])]},
                        ], note=f"{result['date']}, {result['cores']} cores; bars above 1.5 × c/L are cut (zig-zag) and "
                                "labelled with their value")


def lab_lines(result):
    """The lab's figures for the .md beside the page."""
    data = result["lab"]
    lines = ["", "## Capacity sweeps (open loop)", "",
             "| fix | N | predicted N/L | measured knee between | most answered in time | steps (offered req/s: p50/p99 ms, failed) |",
             "|---|---|---|---|---|---|"]
    for fix in data["sweeps"]:
        good, bad = fix["knee"]
        steps = "; ".join(f"{s['offered_rps']:,.0f}: {s['p50_ms']:,.0f}/{s['p99_ms']:,.0f}, "
                          f"{1 - s['ok_share']:.0%}" for s in fix["steps"])
        lines.append(f"| {fix['scenario']} | {fix['n']:,} | {fix['predicted_rps']:,.0f} req/s | {lab.fmt(good)} and "
                     f"{lab.fmt(bad)} req/s | {max(s['goodput_rps'] for s in fix['steps']):,.1f} req/s | {steps} |")
    lines += ["", "## Little's law (c=20 closed loop, in-flight gauge sampled every 50 ms)", "",
              "| scenario | requests | timeouts | throughput | mean time inside | throughput × time | gauge mean | ratio |",
              "|---|---|---|---|---|---|---|---|"]
    for run in data["timelines"]:
        little = run["little"]
        lines.append(f"| {run['scenario']} | {run['requests']} | {run['timeouts']} | {lab.fmt(little['throughput_rps'], 1)} req/s | "
                     f"{lab.fmt(little['mean_latency_s'], 3)} s | {lab.fmt(little['predicted_in_flight'], 1)} | "
                     f"{lab.fmt(little['measured_in_flight'], 1)} | {lab.fmt(little['ratio'], 2)} |")
    accuracy = data["accuracy"]
    lines += ["", f"Generator accuracy: {accuracy['rate']:,} req/s for {accuracy['duration_s']:g} s against the "
              f"{accuracy['url_kind']}, actual − intended start p50 {accuracy['lag_p50_ms']:.3f} ms, "
              f"p99 {accuracy['lag_p99_ms']:.3f} ms, max {accuracy['lag_max_ms']:.3f} ms."]
    lines += [""] + data["little_reading"] + ["", data["cost_reading"]]
    return lines + slow_replica.md_lines(data["slow_replica"])


def run_lab_sweeps(generator, deployments, options):
    """Capacity sweeps: the two blocking fixes side by side, then async alone (it needs the CPU)."""
    profile, latency = options.profile, options.latency_s
    timeout_s = options.timeout_s

    def progress(label, index, rate, step):
        print(f"      {label}: {rate:,.0f} req/s offered → p50 {step['p50_ms']:,.0f} ms, p99 {step['p99_ms']:,.0f} ms, "
              f"{1 - step['ok_share']:.0%} failed", flush=True)

    def blocking(scenario_id):
        deployment, n = deployments[scenario_id]
        rates = [round(m * n / latency, 2) for m in profile.multiples]
        return lab.sweep(generator, deployment, rates, profile.step_seconds, timeout_s, latency, progress)

    blocking_steps = lab.in_parallel([lambda: blocking("blocking4"), lambda: blocking("scaleout")])
    deployment, n = deployments["async"]

    def async_step(rate):
        return lab.sweep(generator, deployment, [rate], profile.step_seconds, timeout_s, latency, progress)[0]
    async_steps = lab.saturating_rates(profile.async_start, profile.async_factor, profile.async_min_steps,
                                       profile.async_max_steps, async_step)
    fixes = []
    for scenario_id, steps in zip(SWEPT, blocking_steps + [async_steps]):
        deployment, n = deployments[scenario_id]
        fix = {"id": scenario_id, "scenario": deployment.label, "n": n, "latency_s": latency,
               "predicted_rps": n / latency, "steps": steps, "knee": list(lab.knee(steps))}
        fix["reading"] = lab.sweep_reading(fix)
        fixes.append(fix)
    return fixes


# Above the slow replica's 3 s, so a request it answers counts as slow, not as lost; its queue still times out.
SLOW_TIMEOUT_S = 5.0


def slow_progress(run):
    shares = " / ".join(f"{share:.0%}" for share in run["replica_shares"])
    print(f"      {run['label']}: p50 {run['p50_ms']:,.0f} ms, p99 {run['p99_ms']:,.0f} ms, {run['timeouts']} timeouts of "
          f"{run['requests']}; shares {shares}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--quick", action="store_true", help="fewer, shorter runs (≤ 90 s): 2 s wrk runs, 3–4 sweep steps")
    parser.add_argument("--duration", type=int, help="seconds of wrk load per scenario (default 15, --quick 2)")
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--timeout", default="2s", help="per-request timeout of wrk and the generator (default 2s)")
    parser.add_argument("--out", default=os.path.join(ROOT, "results"), help="where the results go (default results/)")
    options = parser.parse_args()
    options.latency_s = 1.0  # 500 ms at location + 500 ms at sun
    options.timeout_s = float(options.timeout.removesuffix("s"))
    options.profile = Profile(options.quick, options.duration)
    binary = lambda name: os.path.join(options.bin_dir, name)
    for name in ("cityscape-location", "cityscape-sun", "cityscape-gateway", "cityscape-proxy", "cityscape-openload"):
        if not os.access(binary(name), os.X_OK):
            sys.exit(f"demo: {binary(name)} not found — build it first (make release)")
    generator = binary("cityscape-openload")

    began = time.monotonic()
    load_before = loadavg()
    profile = options.profile
    print(f"Cityscape lab: location and sun at --latency 500ms (one gateway request ≥ {options.latency_s:g} s); "
          f"{len(SCENARIOS)} scenarios under wrk -t2 -c{options.connections} -d{profile.wrk_s}s --timeout {options.timeout}, "
          f"then timelines, capacity sweeps and Little's law with cityscape-openload"
          f"{' (quick)' if profile.quick else ''}.", flush=True)
    location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
    sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
    rows, timelines, kept, accuracy = [], [], {}, None
    try:
        for index, scenario in enumerate(SCENARIOS, 1):
            label, description, *_, scenario_id, n = scenario
            prefix = f"[{index}/{len(SCENARIOS)}] {description}: "
            print(prefix + "starting", flush=True)
            deployment = start_deployment(binary, (location_url, sun_url), scenario)
            row = course_row(deployment, scenario, options, "      ")
            rows.append(row)
            print(f"      wrk: {row['rps']:.1f} req/s, {row['timeouts']} timeouts, p99 {ms(row['p99_ms'])}", flush=True)
            if scenario_id in TIMELINES:
                run = lab.timeline(generator, deployment, options.connections, profile.timeline_s, options.timeout_s)
                run["id"] = scenario_id
                timelines.append(run)
                print(f"      timeline: {run['requests']} requests, {run['timeouts']} timeouts; in flight: gauge "
                      f"{lab.fmt(run['little']['measured_in_flight'], 1)}, throughput × latency "
                      f"{lab.fmt(run['little']['predicted_in_flight'], 1)}", flush=True)
            if scenario_id == "cache":
                accuracy = lab.accuracy(generator, deployment.url + PATH, profile.accuracy_rate, profile.accuracy_s)
                print(f"      generator accuracy at {profile.accuracy_rate:,} req/s: start lag p99 "
                      f"{accuracy['lag_p99_ms']:.3f} ms", flush=True)
            if scenario_id in SWEPT:
                kept[scenario_id] = (deployment, n)
            else:
                deployment.stop()
        print(f"[sweeps] open loop, offered load from {profile.multiples[0]:g}× to {profile.multiples[-1]:g}× N/L "
              "(blocking ×4 and scale-out side by side), then async up to saturation", flush=True)
        sweeps = run_lab_sweeps(generator, kept, options)
        for deployment, _ in kept.values():
            deployment.stop()
        kept.clear()
        print(f"[slow replica] {slow_replica.REPLICAS} blocking replicas × {slow_replica.WORKERS} workers, one with its "
              f"upstreams {slow_replica.SLOW_FACTOR} × slower; open loop at {slow_replica.LOAD_SHARE:.0%} of N/L, "
              f"{profile.slow_replica_warmup_s} s warm-up + {profile.slow_replica_s} s measured per balancing policy"
              f"{'' if profile.quick else ', nginx and HAProxy as anchors'}", flush=True)
        slow = slow_replica.run(binary, generator, (location_url, sun_url), options.latency_s, profile.slow_replica_s,
                                SLOW_TIMEOUT_S, slow_progress,
                                anchors=() if profile.quick else slow_replica.anchors_available(),
                                warmup_s=profile.slow_replica_warmup_s, settle_s=profile.slow_replica_settle_s)
    finally:
        for deployment, _ in kept.values():
            deployment.stop()
        stop(sun)
        stop(location)

    for run in timelines:
        run["reading"] = lab.timeline_reading([run], options.timeout_s)
    load_after = loadavg()
    stamp = timestamp()
    limit = options.connections / options.latency_s
    command = f"python3 -m bench.demo {options.bin_dir}" + (" --quick" if profile.quick else "") + \
        (f" --duration {options.duration}" if options.duration else "")
    header = (f"Cityscape demo {stamp}: {os.cpu_count()} cores, location and sun at --latency 500ms (L = {options.latency_s:g} s), "
              f"`wrk -t2 -c{options.connections} -d{profile.wrk_s}s --timeout {options.timeout}`, c/L = {limit:g} req/s, "
              f"`{command}`, load average before {load_before}, after {load_after}")
    lines = [header, ""] + table(rows) + [""] + explanation(rows, options)
    base = os.path.join(options.out, f"demo-{stamp}")
    result = {"date": stamp, "cores": os.cpu_count(), "command": command, "latency_s": options.latency_s,
              "connections": options.connections, "duration_s": profile.wrk_s, "timeout": options.timeout,
              "limit_rps": limit, "load_before": load_before, "load_after": load_after, "quick": profile.quick,
              "header": header, "explanation": explanation(rows, options), "scenarios": rows,
              "json_name": os.path.basename(base) + ".json",
              "lab": {"timeout_s": options.timeout_s, "accuracy": accuracy, "sweeps": sweeps, "timelines": timelines,
                      "little_reading": lab.little_reading(timelines), "cost_reading": lab.cost_reading(rows),
                      "slow_replica": slow}}
    write_results(base, result, lines + lab_lines(result))
    with open(base + ".html", "w") as page:
        page.write(lab_report.render(result, course_svg(result)))
    print()
    print("\n".join(lines))
    print(f"\nwrote {base}.html (open it in a browser), .json and .md in {time.monotonic() - began:.0f} s")


if __name__ == "__main__":
    run_main(main)

"""Soak: mixed load through the full stack for 10 minutes with a fault every minute.

Stack (loopback, ports chosen by the OS): location, sun, 4 gateway replicas (2 async, 2 blocking
with 4 workers) behind cityscape-proxy. 16 keep-alive clients send a mix through the proxy: 89 %
valid lookups (200), 7 % unknown postal codes (404), 4 % malformed requests (400). A request counts
as an error when its answer is not the one its kind expects; an error is attributed to the latest
fault injected before it ended, if it started less than 20 s after that injection, else to "none".

Faults rotate: kill -9 a replica, SIGTERM a replica, SIGSTOP sun 5 s (hung upstream), kill -9 sun,
SIGSTOP a replica 5 s (hung backend), kill -9 location; killed processes restart on their port.
RSS and open fds of every process are sampled every 10 s.

Writes results/soak-<UTC time>.json and .svg. Not part of `make test`.
Usage (from the repository root): python3 -m tools.soak.soak [--bin-dir DIR] [--duration SECONDS] [--fault-every SECONDS]
"""
import argparse
import datetime
import json
import os
import signal
import sys
import threading
import time

from tools.cityscape_tools import charts
from tools.cityscape_tools.harness import ROOT, Stack, free_port
from tools.cityscape_tools.load import Load, summarize

VALID = [f"/api/sun/{code}/US?date=2026-{month:02d}-15" for code in ("97227", "10001", "94103", "60601", "99701") for month in range(1, 13)]
MIX = VALID[:48] + ["/api/sun/00000/US", "/api/sun/99999/US", "/api/sun/00001/DE", "/api/sun/A/ZZ", "/api/sun/97227/USA", "/api/sun/97227/US?date=2026-02-30"]
EXPECTED = {path: 200 for path in VALID} | {path: 404 for path in MIX[48:52]} | {path: 400 for path in MIX[52:]}
ATTRIBUTION_WINDOW = 20.0


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=os.path.join(ROOT, ".build", "release"))
    parser.add_argument("--duration", type=float, default=600)
    parser.add_argument("--fault-every", type=float, default=60)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    with Stack(args.bin_dir) as stack:
        location = stack.start("cityscape-location")
        sun = stack.start("cityscape-sun")
        upstreams = ["--location-url", location.url, "--sun-url", sun.url, "--upstream-timeout", "2s"]
        replicas = [stack.start("cityscape-gateway", "--mode", "async", *upstreams) for _ in range(2)]
        replicas += [stack.start("cityscape-gateway", "--mode", "blocking", "--workers", "4", *upstreams) for _ in range(2)]
        backends = [arg for replica in replicas for arg in ("--backend", f"127.0.0.1:{replica.port}")]
        proxy = stack.start("cityscape-proxy", *backends, "--admin", f"127.0.0.1:{free_port()}", "--health-interval", "500ms")
        named = {"location": location, "sun": sun, "proxy": proxy} | {f"gateway-{i + 1}": r for i, r in enumerate(replicas)}
        samples, faults = [], []
        start = time.monotonic()
        load = Load(proxy.port, MIX, clients=args.clients, timeout=10).start()
        stop = threading.Event()
        sampler = threading.Thread(target=sample, args=(named, samples, start, stop), daemon=True)
        sampler.start()
        schedule = fault_schedule(named)
        next_fault = start + args.fault_every / 2
        index = 0
        while time.monotonic() - start < args.duration:
            if time.monotonic() >= next_fault:
                name, inject = schedule[index % len(schedule)]
                at = time.monotonic() - start
                print(f"[{at:6.1f} s] fault: {name}", flush=True)
                faults.append({"t": round(at, 1), "at": at, "fault": name})
                threading.Thread(target=inject, daemon=True).start()
                index += 1
                next_fault += args.fault_every
            time.sleep(0.2)
        records = load.stop()
        stop.set()
        sampler.join(15)
    report = analyse(records, faults, samples, start, args)
    base = os.path.join(ROOT, "results", f"soak-{stamp}")
    with open(base + ".json", "w") as f:
        json.dump(report, f, indent=2)
    write_figure(base + ".svg", report)
    print(json.dumps(report["summary"], indent=2))
    print(f"wrote {os.path.relpath(base, ROOT)}.json and .svg")
    return 0


def fault_schedule(named):
    def kill_restart(service, down):
        def inject():
            service.kill()
            time.sleep(down)
            service.start()
        return inject

    def term_restart(service, down):
        def inject():
            service.signal(signal.SIGTERM)
            service.proc.wait(20)
            time.sleep(down)
            service.start()
        return inject

    def pause(service, seconds):
        def inject():
            service.signal(signal.SIGSTOP)
            time.sleep(seconds)
            service.signal(signal.SIGCONT)
        return inject

    return [
        ("kill -9 gateway-1, restart after 10 s", kill_restart(named["gateway-1"], 10)),
        ("SIGTERM gateway-3, restart after 10 s", term_restart(named["gateway-3"], 10)),
        ("SIGSTOP sun 5 s (hung upstream)", pause(named["sun"], 5)),
        ("kill -9 sun, restart after 5 s", kill_restart(named["sun"], 5)),
        ("SIGSTOP gateway-2 5 s (hung replica)", pause(named["gateway-2"], 5)),
        ("kill -9 location, restart after 5 s", kill_restart(named["location"], 5)),
    ]


def write_figure(path, report):
    """RSS and fds per process, requests and errors per 10 s, p99; every fault a dashed line on every panel,
    so a step in memory or a burst of errors can be matched to its cause at a glance."""
    samples, series, summary = report["samples"], report["series"], report["summary"]
    duration = max([summary["duration_s"]] + [s["t"] for s in samples])
    names = [k for k in (samples[0] if samples else {}) if k != "t"]
    panels = [
        ("RSS (MiB)", [(name, [(s["t"], (s[name]["rss_kib"] or 0) / 1024) for s in samples]) for name in names]),
        ("open fds", [(name, [(s["t"], s[name]["fds"] or 0) for s in samples]) for name in names]),
        ("requests / 10 s", [("requests", [(p["t"], p["requests"]) for p in series]), ("errors", [(p["t"], p["errors"]) for p in series])]),
        ("p99 latency (ms) per 10 s", [("p99", [(p["t"], p["p99_ms"]) for p in series])]),
    ]
    title = (f"Soak: {summary['requests']} requests, {summary['errors']} errors, p99 {summary['p99_ms']} ms, "
             f"{summary['faults']} faults (dashed lines)")
    return charts.write_lines(path, title, panels, duration, [fault["t"] for fault in report["faults"]])


def sample(named, samples, start, stop):
    while not stop.is_set():
        row = {"t": round(time.monotonic() - start, 1)}
        for name, service in named.items():
            row[name] = {"rss_kib": service.rss_kib(), "fds": service.fds()}
        samples.append(row)
        stop.wait(10)


def analyse(records, faults, samples, start, args):
    errors_by_cause, errors_by_fault = {}, {}
    timeline = {}
    # Unrounded times: a rounded-up injection time would leave the first failures of a fault unattributed.
    fault_times = [(f.pop("at"), f["fault"]) for f in faults]
    for started, latency, outcome, path in records:
        t = started - start
        bucket = timeline.setdefault(int(t // 10) * 10, {"requests": 0, "errors": 0, "latencies": []})
        bucket["requests"] += 1
        bucket["latencies"].append(latency)
        if outcome == EXPECTED[path]:
            continue
        bucket["errors"] += 1
        errors_by_cause[str(outcome)] = errors_by_cause.get(str(outcome), 0) + 1
        # The latest fault injected before the request ended, if the request started within the window.
        active = [(at, name) for at, name in fault_times if at <= t + latency]
        key = active[-1][1] if active and t - active[-1][0] < ATTRIBUTION_WINDOW else "none"
        errors_by_fault[key] = errors_by_fault.get(key, 0) + 1
    overall = summarize(records, EXPECTED)
    growth = {}
    warm = [s for s in samples if s["t"] >= 60] or samples
    for name in samples[0] if samples else {}:
        if name == "t":
            continue
        rss = [s[name]["rss_kib"] for s in warm if s[name]["rss_kib"]]
        fds = [s[name]["fds"] for s in warm if s[name]["fds"]]
        growth[name] = {"rss_kib_first": rss[0] if rss else None, "rss_kib_last": rss[-1] if rss else None,
                        "rss_kib_max": max(rss) if rss else None, "fds_first": fds[0] if fds else None,
                        "fds_last": fds[-1] if fds else None, "fds_max": max(fds) if fds else None}
    series = [{"t": t, "requests": b["requests"], "errors": b["errors"],
               "p99_ms": round(sorted(b["latencies"])[int(0.99 * (len(b["latencies"]) - 1))] * 1000, 1)}
              for t, b in sorted(timeline.items())]
    summary = {"duration_s": args.duration, "clients": args.clients, "requests": overall["requests"],
               "requests_per_s": round(overall["requests"] / args.duration, 1),
               "errors": sum(errors_by_cause.values()), "errors_by_cause": errors_by_cause, "errors_by_fault": errors_by_fault,
               "p50_ms": overall["p50_ms"], "p99_ms": overall["p99_ms"], "max_ms": overall["max_ms"],
               "faults": len(faults), "memory_and_fds_after_warmup": growth}
    return {"summary": summary, "faults": faults, "series": series, "samples": samples}


if __name__ == "__main__":
    sys.exit(main())

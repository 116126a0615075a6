"""The lab half of `make demo`: capacity sweeps, per-request timelines, Little's law and cost per fix.

Every load here comes from cityscape-openload (bench/openload): open loop for the sweeps (requests start
on schedule whatever the answers, latency counted from the intended start), closed loop with 20
connections for the timelines (the course's c=20, one dot per request). demo.py calls it with the
deployments it has already started for the course table, so each fix is started once.
"""
import math
import statistics
import threading

from bench import loadgen
from tools.cityscape_tools.harness import free_port, spawn, stop, wait_healthy

PATH = "/api/sun/97227/US?date=2026-06-21"
GATEWAY_METRIC = "gateway_requests_in_flight"
PROXY_METRIC = "proxy_requests_in_flight"


class Deployment:
    """One way of serving: the gateway processes (and the proxy in front of them) of one scenario."""

    def __init__(self, label, gateways, proxy=None, proxy_url=None, admin_url=None):
        self.label = label
        self.gateways = gateways  # [(process, base_url)]
        self.proxy = proxy
        self.url = proxy_url or gateways[0][1]
        # The proxy counts what it forwards; the gateways behind it would count the same requests again.
        self.metrics_urls = [admin_url + "/metrics"] if proxy else [base + "/metrics" for _, base in gateways]
        self.metric = PROXY_METRIC if proxy else GATEWAY_METRIC

    @property
    def processes(self):
        return [process for process, _ in self.gateways] + ([self.proxy] if self.proxy else [])

    def stop(self):
        for process in reversed(self.processes):
            stop(process)


def start_proxy(binary, backends, *proxy_args):
    """cityscape-proxy on a free port with its admin listener on another; returns (process, url, admin_url).

    `proxy_args` go to the proxy as they are (e.g. a balancing policy for a scenario that compares them).
    """
    port, admin = free_port(), free_port()
    args = [a for base in backends for a in ("--backend", base.removeprefix("http://"))]
    process = spawn([binary, "--port", str(port), "--admin", f"127.0.0.1:{admin}",
                     "--log-level", "warning", *args, *proxy_args])
    url, admin_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{admin}"
    wait_healthy(process, admin_url + "/healthz")
    wait_healthy(process, url + "/healthz")  # forwarded to a gateway: the proxy is listening and has a backend
    return process, url, admin_url


# MARK: one run, summarised

def summarize(report, sampler, offered=None):
    """The figures of one generator run, plus Little's law from the sampled in-flight gauge."""
    records = report["records"]
    n = len(records)
    outcomes = [r["outcome"] for r in records]
    ok = sum(1 for o in outcomes if isinstance(o, int) and 200 <= o < 300)
    shed = outcomes.count(503)
    timeouts = outcomes.count("timeout")
    other = n - ok - shed - timeouts
    duration = report["duration_s"]
    latency = report["latency_with_timeouts_ms"]
    # Time each request spent at the server as the client saw it: from the actual send to the end.
    inside = [(r["latency_ms"] - (r["start_ms"] - r["intended_ms"])) / 1000 for r in records
              if r["start_ms"] is not None and r["latency_ms"] is not None]
    window = report["elapsed_s"] or duration
    measured = sampler.integral() / window if sampler and window else None
    predicted = sum(inside) / window if window else None
    return {
        "offered_rps": offered, "requests": n, "ok": ok, "shed_503": shed, "timeouts": timeouts, "other_errors": other,
        "ok_share": ok / n if n else 0, "shed_share": shed / n if n else 0, "timeout_share": timeouts / n if n else 0,
        "other_share": other / n if n else 0, "goodput_rps": round(ok / duration, 2),
        "p50_ms": latency["p50"], "p99_ms": latency["p99"], "mean_ms": latency["mean"],
        "lag_p99_ms": report["schedule_lag_ms"]["p99"], "lag_max_ms": report["schedule_lag_ms"]["max"],
        "peak_connections": report["peak_open_connections"],
        "little": {"window_s": round(window, 3), "throughput_rps": round(len(inside) / window, 2) if window else None,
                   "mean_latency_s": round(statistics.fmean(inside), 4) if inside else None,
                   "predicted_in_flight": round(predicted, 2) if predicted is not None else None,
                   "measured_in_flight": round(measured, 2) if measured is not None else None,
                   "ratio": round(measured / predicted, 3) if measured is not None and predicted else None,
                   "samples": len(sampler.samples) if sampler else 0},
    }


def measured_run(generator, deployment, drain_s=10, **load):
    """One generator run with the in-flight gauge sampled until the deployment is empty again."""
    with loadgen.InFlightSampler(deployment.metrics_urls, deployment.metric) as sampler:
        report = loadgen.run(generator, deployment.url + PATH, **load)
        sampler.wait_empty(drain_s)
    return report, sampler


# MARK: the experiments

def accuracy(generator, url, rate, duration_s):
    """The generator's own schedule accuracy against a fast endpoint: p99 of actual − intended start."""
    report = loadgen.run(generator, url, rate=rate, duration_s=duration_s, warm=32)
    lag = report["schedule_lag_ms"]
    return {"url_kind": "async gateway, cache on", "rate": rate, "duration_s": duration_s,
            "requests": report["requests"], "ok": report["ok"], "lag_p50_ms": lag["p50"], "lag_p99_ms": lag["p99"],
            "lag_p999_ms": lag["p999"], "lag_max_ms": lag["max"], "latency_p99_ms": report["latency_ms"]["p99"],
            "peak_connections": report["peak_open_connections"], "realtime_priority": report["realtime_priority"]}


def timeline(generator, deployment, connections, duration_s, timeout_s):
    """The course's c=20 as a closed loop, every request kept: (send time s, latency ms, outcome)."""
    report, sampler = measured_run(generator, deployment, connections=connections, duration_s=duration_s,
                                   timeout_s=timeout_s)
    summary = summarize(report, sampler)
    points = [[round(r["start_ms"] / 1000 if r["start_ms"] is not None else r["intended_ms"] / 1000, 3),
               r["latency_ms"], outcome_class(r["outcome"])] for r in records_sorted(report)]
    queue = [r["queue_ms"] for r in report["records"] if r["queue_ms"] is not None]
    upstream = [r["location_ms"] + r["sun_ms"] for r in report["records"]
                if r["location_ms"] is not None and r["sun_ms"] is not None]
    return {"scenario": deployment.label, "connections": connections, "duration_s": duration_s, **summary,
            "server_timing": {"queue_mean_ms": round(statistics.fmean(queue), 1) if queue else None,
                              "upstream_mean_ms": round(statistics.fmean(upstream), 1) if upstream else None},
            "points": points}


def records_sorted(report):
    return sorted(report["records"], key=lambda r: r["intended_ms"])


def outcome_class(outcome):
    if isinstance(outcome, int):
        return "ok" if 200 <= outcome < 300 else ("503" if outcome == 503 else "error")
    return "timeout" if outcome == "timeout" else "error"


def sweep(generator, deployment, rates, step_seconds, timeout_s, latency_s, progress=None):
    """Open-loop steps at each offered rate; between steps the deployment drains to empty.

    Each step opens about as many connections as it will keep busy (rate × L) before its first request,
    so the first second measures the server, not the generator's connection set-up.
    """
    steps = []
    for index, rate in enumerate(rates):
        duration = step_seconds(rate)
        warm = min(4000, math.ceil(rate * latency_s * 1.1))
        report, sampler = measured_run(generator, deployment, rate=rate, duration_s=duration, timeout_s=timeout_s,
                                       warm=warm)
        step = summarize(report, sampler, offered=rate)
        step["duration_s"] = duration
        steps.append(step)
        if progress:
            progress(deployment.label, index, rate, step)
    return steps


def saturating_rates(start, factor, minimum_steps, maximum_steps, run_step):
    """Rates start, start×factor, … run until two steps in a row fail (and at least minimum_steps)."""
    steps, bad = [], 0
    rate = start
    while len(steps) < maximum_steps:
        step = run_step(round(rate))
        steps.append(step)
        bad = bad + 1 if not healthy(step, steps[0]) else 0
        if bad >= 2 and len(steps) >= minimum_steps:
            break
        rate *= factor
    return steps


def healthy(step, baseline):
    """A step within capacity: p99 at most 1.5 × the lightest step's and at most 1 % failed."""
    return step["p99_ms"] <= 1.5 * max(baseline["p99_ms"], 1) and step["ok_share"] >= 0.99


def knee(steps):
    """(last healthy offered rate, first unhealthy one after it) — the measured knee lies between them."""
    last_good, first_bad = None, None
    for step in steps:
        if healthy(step, steps[0]):
            if first_bad is None:
                last_good = step["offered_rps"]
        elif first_bad is None:
            first_bad = step["offered_rps"]
    return last_good, first_bad


def in_parallel(jobs):
    """Runs callables on threads and returns their results in order (the two blocking sweeps at once)."""
    results, errors = [None] * len(jobs), []

    def work(index, job):
        try:
            results[index] = job()
        except BaseException as error:  # re-raised below, on the caller's thread
            errors.append(error)
    threads = [threading.Thread(target=work, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# MARK: cost and readings

def fmt(value, digits=0):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def sweep_reading(fix):
    steps, capacity = fix["steps"], fix["predicted_rps"]
    good, bad = fix["knee"]
    base = steps[0]
    worst = max(steps, key=lambda s: s["p99_ms"])
    best = max(steps, key=lambda s: s["goodput_rps"])
    near_l = base["p99_ms"] <= 1100 * fix["latency_s"]
    text = (f"{fix['scenario']}: at {fmt(base['offered_rps'])} req/s p99 is {fmt(base['p99_ms'])} ms"
            f"{' (≈ L)' if near_l else ', already above L (the machine is busy)'}. ")
    if capacity and capacity <= steps[-1]["offered_rps"]:
        text += f"Predicted capacity N/L = {fix['n']}/{fix['latency_s']:g} s = {fmt(capacity)} req/s; "
    else:
        text += (f"N/L = {fix['n']:,}/{fix['latency_s']:g} s = {fmt(capacity)} req/s is far beyond this machine, "
                 "so the CPU sets the limit; ")
    if bad is None:
        text += f"latency stayed flat up to the highest step, {fmt(steps[-1]['offered_rps'])} req/s. "
    else:
        first_bad = next(s for s in steps if s["offered_rps"] == bad)
        text += (f"latency stays flat up to {fmt(good)} req/s and breaks at {fmt(bad)} req/s: p99 {fmt(first_bad['p99_ms'])} ms, "
                 f"{first_bad['timeout_share'] + first_bad['shed_share'] + first_bad['other_share']:.0%} failed. ")
    text += (f"The most answered in time was {fmt(best['goodput_rps'], 1)} req/s; the worst p99 {fmt(worst['p99_ms'])} ms at "
             f"{fmt(worst['offered_rps'])} req/s, where {worst['timeout_share']:.0%} timed out.")
    return text


def timeline_reading(runs, timeout_s):
    parts = []
    for run in runs:
        st = run["server_timing"]
        queue = f", of which {fmt(st['queue_mean_ms'])} ms waiting for a worker (Server-Timing queue)" \
            if st["queue_mean_ms"] is not None and st["queue_mean_ms"] >= 1 else ""
        parts.append(f"{run['scenario']}: {run['requests']} requests, {run['ok']} answered in time, {run['timeouts']} timed out "
                     f"after {timeout_s:g} s; median {fmt(run['p50_ms'])} ms{queue}.")
    return " ".join(parts)


def little_reading(rows):
    """One line per scenario: the two sides of Little's law and whether they agree."""
    parts = []
    for row in rows:
        little = row["little"]
        if little["ratio"] is None:
            continue
        agree = abs(little["ratio"] - 1) <= 0.10
        text = (f"{row['scenario']}: throughput {fmt(little['throughput_rps'], 1)} req/s × mean time inside "
                f"{fmt(little['mean_latency_s'], 2)} s = {fmt(little['predicted_in_flight'], 1)} in flight; the service's own "
                f"gauge averaged {fmt(little['measured_in_flight'], 1)} ({little['ratio']:.2f} ×)")
        if agree:
            text += " — Little's law holds within 10 %."
        elif row["timeouts"]:
            text += (f" — off by more than 10 %: {row['timeouts']} requests timed out, the client stopped counting them at "
                     "the timeout while the service still held them until it found the connection gone.")
        else:
            text += " — off by more than 10 %: too few requests or samples for a steady average."
        parts.append(text)
    return parts


def cost_reading(rows):
    by = {row["scenario"]: row for row in rows}
    scale, asy = by.get("4×4 + proxy"), by.get("async")
    if not scale or not asy:
        return ""
    return (f"Scale-out serves c=20 with {scale['processes']} processes, {scale['threads']} threads and "
            f"{fmt(scale['peak_rss_mib'])} MiB; async with {asy['processes']} process, {asy['threads']} threads and "
            f"{fmt(asy['peak_rss_mib'])} MiB. CPU per 1,000 requests: {fmt(scale['cpu_ms_per_1k'])} ms scaled out, "
            f"{fmt(asy['cpu_ms_per_1k'])} ms async.")

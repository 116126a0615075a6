"""Gateway benchmark: the course's scenario (blocking x1, blocking x4, async) and async at high concurrency,
next to the same gateway written with Go's standard library (bench/peers/gogateway).

Location and sun run with --latency 500ms each, so one gateway request takes at least L = 1.0 s and a
closed-loop load of c connections can at best reach c/L req/s. Every scenario gets a fresh gateway in
front of the same upstreams; all scenarios run in one invocation so their ratios are comparable on a
noisy machine. The file-descriptor limit is raised to the hard limit for every process started here
(c=10000 needs 10,000 client sockets in wrk and in the gateway, plus its upstream connections).

Per scenario: requests, req/s and its ratio to c/L, 200s per second, avg and p99 (wrk's, 200s and 503s
mixed), timeouts and socket errors, 503s (and any 503 without Retry-After or the `overloaded` code, from
bench/status.lua), CPU ms per request of every process and of wrk (CPU seconds ÷ requests, from /proc and
getrusage), the gateway's peak RSS. A probe beside wrk sends one request at a time on its own connection
and times each answer by status, for p99 of the 200s and of the 503s separately. For the async gateway at
the highest concurrency (c=10000), the trajectory of its `gateway_in_flight_limit`, sampled from /metrics once a second.
Writes results/gateway-<timestamp>.json and .md.

From c=5000 on (beyond two cores' capacity) each async row has a twin with a fixed `--max-in-flight 10000`, which
refuses nothing, so the table shows what shedding buys and costs under a closed loop (--skip-fixed leaves them out).

Then an open-loop overload (unless --skip-overload): cityscape-openload starts requests on schedule at twice the most
200s per second an async row of this build served (or --overload-rate), on keep-alive connections, against a fresh
async gateway with `--max-in-flight auto`, then with the fixed limit. Unlike wrk's closed loop, a refused request is not
followed at once by the next one on the same connection, so this is the overload a gateway sees from independent
clients: it reports the 200s and 503s per second, p50/p99 of each by status, timeouts, the generator's own CPU, and the
limit's trajectory.

With --baseline-bin DIR, the gateway binary of DIR (e.g. main's release build) also runs the async scenario of
the lowest high concurrency (c=1000 unless --connections says otherwise), right before this build's, for a
before/after of CPU per request in the same run.

Usage (from the repository root): python3 -m bench.gateway BIN_DIR [--skip-high | --skip-course] [--connections 1000 5000 10000]
[--skip-peer] [--skip-fixed] [--seconds 30] [--baseline-bin DIR] [--skip-overload | --overload-rate R]
"""
import argparse
import datetime
import http.client
import os
import re
import resource
import shutil
import subprocess
import threading
import time

from bench import loadgen
from tools.cityscape_tools.harness import free_port, spawn, start, stop, wait_healthy
from tools.cityscape_tools.procs import cpu_seconds, rss_kib
from tools.cityscape_tools.results import nearest_rank, publish_results
from tools.cityscape_tools.wrk import parse_wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LATENCY_S = 1.0  # 500 ms at location + 500 ms at sun
PATH = "/api/sun/97227/US?date=2026-06-21"
STATUS_SCRIPT = os.path.join(ROOT, "bench", "status.lua")

COURSE = [  # (name, server, gateway flags, connections, seconds, wrk timeout)
    ("blocking x1", "cityscape", ["--mode", "blocking", "--workers", "1", "--queue-limit", "100000"], 20, 15, "2s"),
    ("blocking x4", "cityscape", ["--mode", "blocking", "--workers", "4", "--queue-limit", "100000"], 20, 15, "2s"),
    ("async", "cityscape", ["--mode", "async"], 20, 15, "2s"),
]
HIGH_CONNECTIONS = (1000, 5000, 10000)
# cityscape-openload's default --max-connections: the most connections the open-loop overload opens at once.
OPENLOAD_CONNECTIONS = 10_000
# The fixed limit of the comparison rows: as many as wrk's largest load, so nothing is refused and the excess waits.
FIXED_LIMIT = ["--max-in-flight", "10000"]
# Beyond this many connections two cores are past capacity, where the adaptive limit and a fixed one part ways.
FIXED_FROM = 5000


def high_scenarios(seconds, with_peer, with_baseline, connection_counts=HIGH_CONNECTIONS, with_fixed=True):
    rows = []
    for connections in connection_counts:
        if with_baseline and connections == min(connection_counts):
            rows.append((f"baseline async c={connections}", "baseline", ["--mode", "async", "--max-in-flight", "auto"], connections, seconds,
                         "5s"))
        rows.append((f"async c={connections}", "cityscape", ["--mode", "async", "--max-in-flight", "auto"], connections, seconds, "5s"))
        if with_fixed and connections >= FIXED_FROM:
            rows.append((f"async fixed 10000 c={connections}", "cityscape", ["--mode", "async", *FIXED_LIMIT], connections, seconds, "5s"))
        if with_peer:
            rows.append((f"go c={connections}", "go", [], connections, seconds, "5s"))
    return rows


def connection_room(clients):
    """`--max-connections` with room above the load's own connections for the probe and the /metrics sampler, which the
    default (10,000) would refuse while wrk -c10000 holds every slot."""
    return ["--max-connections", str(max(10_000, clients + 100))]


def overload_rate(rows, asked):
    """`asked`, else twice the most 200s per second of this build's async rows (None when there are none)."""
    if asked:
        return asked
    served = [row["ok_rps"] for row in rows if row["server"] == "cityscape" and row["scenario"].startswith("async")]
    return round(2 * max(served), -2) if served else None


def by_status(records):
    """Count, p50 and p99 (ms) of the requests' latencies per outcome: a status code, `timeout`, `overflow`, …"""
    groups = {}
    for record in records:
        groups.setdefault(str(record["outcome"]), []).append(record["latency_ms"])
    summary = {}
    for outcome, values in sorted(groups.items()):
        known = [value for value in values if value is not None]
        summary[outcome] = {"n": len(values),
                            "p50_ms": round(nearest_rank(known, 0.5), 1) if known else None,
                            "p99_ms": round(nearest_rank(known, 0.99), 1) if known else None}
    return summary


def raise_fd_limit():
    """Soft limit up to the hard one, inherited by every process started afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def build_go_peer():
    """`go build` of bench/peers/gogateway, standard library only (no module download)."""
    source = os.path.join(ROOT, "bench", "peers", "gogateway")
    output = os.path.join(ROOT, ".build", "bench-peers", "gogateway")
    os.makedirs(os.path.dirname(output), exist_ok=True)
    env = {**os.environ, "GO111MODULE": "off", "GOFLAGS": "", "GOPROXY": "off",
           "GOCACHE": os.environ.get("GOCACHE", os.path.join(ROOT, ".build", "bench-peers", "go-cache"))}
    subprocess.run(["go", "build", "-o", output, "."], cwd=source, env=env, check=True)
    return output


def start_go(binary, location_url, sun_url):
    port = free_port()
    process = spawn([binary], env={"PORT": str(port), "LOCATION_URL": location_url, "SUN_URL": sun_url})
    wait_healthy(process, f"http://127.0.0.1:{port}/healthz")
    return process, f"http://127.0.0.1:{port}"


class Probe(threading.Thread):
    """One request at a time on its own keep-alive connection, timed per status, while wrk runs."""

    def __init__(self, base_url, seconds):
        super().__init__(daemon=True)
        self.host, self.port = base_url.removeprefix("http://").split(":")
        self.deadline = time.monotonic() + seconds
        self.samples = {}  # status -> [seconds]
        self.failures = 0

    def run(self):
        connection = None
        time.sleep(2)  # past wrk's connection ramp
        while time.monotonic() < self.deadline:
            try:
                connection = connection or http.client.HTTPConnection(self.host, int(self.port), timeout=5)
                started = time.monotonic()
                connection.request("GET", PATH)
                response = connection.getresponse()
                response.read()
                self.samples.setdefault(response.status, []).append(time.monotonic() - started)
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except Exception:
                self.failures += 1
                if connection:
                    connection.close()
                connection = None
            time.sleep(0.02)

    def summary(self):
        def p99(values):
            return round(nearest_rank(values, 0.99) * 1000, 1)
        return {str(status): {"n": len(values), "p99_ms": p99(values), "max_ms": round(max(values) * 1000, 1)}
                for status, values in sorted(self.samples.items())} | {"failures": self.failures}


class LimitSampler(threading.Thread):
    """`gateway_in_flight_limit` and `gateway_requests_in_flight` from /metrics, once a second.

    The connection is opened before the load starts and kept alive: at c=10000 a new connection waits in the accept
    queue behind the refused clients that reconnect, so a fresh connection per sample would see nothing for seconds."""

    def __init__(self, base_url, seconds):
        super().__init__(daemon=True)
        self.host, self.port = base_url.removeprefix("http://").split(":")
        self.deadline = time.monotonic() + seconds
        self.points = []
        self.connection = self.connect()

    def connect(self):
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=2)
        connection.connect()
        return connection

    def run(self):
        started = time.monotonic()
        while time.monotonic() < self.deadline:
            try:
                self.connection = self.connection or self.connect()
                self.connection.request("GET", "/metrics")
                text = self.connection.getresponse().read().decode()
                values = {name: float(match.group(1)) for name in ("gateway_in_flight_limit", "gateway_requests_in_flight")
                          if (match := re.search(rf"^{name} ([\d.e+]+)$", text, re.MULTILINE))}
                self.points.append({"t": round(time.monotonic() - started, 1), "limit": values.get("gateway_in_flight_limit"),
                                    "in_flight": values.get("gateway_requests_in_flight")})
            except Exception:
                if self.connection:
                    self.connection.close()
                self.connection = None
                self.points.append({"t": round(time.monotonic() - started, 1), "limit": None, "in_flight": None})
            time.sleep(1)
        if self.connection:
            self.connection.close()


def run_wrk(url, connections, seconds, timeout):
    """wrk with bench/status.lua; returns the parsed figures, statuses and wrk's own CPU seconds."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", timeout, "-s", STATUS_SCRIPT, url]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    completed = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if completed.returncode != 0:
        raise RuntimeError(f"wrk failed ({completed.returncode}): {completed.stderr.strip()}")
    result = parse_wrk(completed.stdout)
    result["statuses"] = {code: int(count) for code, count in re.findall(r"^status (\d+) (\d+)$", completed.stdout, re.MULTILINE)}
    bad = re.search(r"^bad_503 (\d+)$", completed.stdout, re.MULTILINE)
    result["bad_503"] = int(bad.group(1)) if bad else None
    result["wrk_cpu_seconds"] = round((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime), 2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--skip-high", action="store_true", help="only the course's c=20 scenarios")
    parser.add_argument("--skip-course", action="store_true", help="only the high-concurrency scenarios")
    parser.add_argument("--connections", type=int, nargs="+", default=list(HIGH_CONNECTIONS),
                        help="the high concurrencies to run (default: %(default)s)")
    parser.add_argument("--skip-peer", action="store_true", help="no Go peer")
    parser.add_argument("--seconds", type=int, default=30, help="duration of each high-concurrency run")
    parser.add_argument("--skip-fixed", action="store_true",
                        help="no rows with the fixed limit (--max-in-flight 10000) beside auto from c=5000 on, and no fixed overload run")
    parser.add_argument("--skip-overload", action="store_true", help="no open-loop overload run")
    parser.add_argument("--overload-rate", type=float, help="requests per second of the open-loop overload (default: twice the async 200s/s)")
    parser.add_argument("--baseline-bin", help="directory of a gateway binary to compare with at the lowest of --connections (before/after)")
    options = parser.parse_args()
    binary = lambda name: os.path.join(options.bin_dir, name)
    fd_limit = raise_fd_limit()
    with_peer = not options.skip_peer and not options.skip_high
    if with_peer and not shutil.which("go"):
        raise SystemExit("go not found: install golang-go (make bench-gateway does), or pass --skip-peer")
    go_binary = build_go_peer() if with_peer else None

    with open("/proc/loadavg") as loadavg:
        load_before = " ".join(loadavg.read().split()[:3])
    location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
    sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
    course = [] if options.skip_course else COURSE
    high = [] if options.skip_high else high_scenarios(options.seconds, with_peer, options.baseline_bin is not None, options.connections,
                                                           not options.skip_fixed)
    scenarios = course + high
    rows = []
    for index, (name, server, flags, connections, seconds, timeout) in enumerate(scenarios, 1):
        print(f"[{index}/{len(scenarios)}] {name}: wrk -t2 -c{connections} -d{seconds}s --timeout {timeout}", flush=True)
        if server == "go":
            gateway, gateway_url = start_go(go_binary, location_url, sun_url)
        else:
            gateway_binary = os.path.join(options.baseline_bin, "cityscape-gateway") if server == "baseline" else binary("cityscape-gateway")
            room = [] if server == "baseline" else connection_room(connections)
            gateway, gateway_url, _ = start(gateway_binary, "--location-url", location_url, "--sun-url", sun_url, *flags, *room)
        pids = (("gateway", gateway.pid), ("location", location.pid), ("sun", sun.pid))
        before = {pid: cpu_seconds(pid) for _, pid in pids}
        probe = Probe(gateway_url, seconds - 1)
        adaptive = server != "go" and "auto" in flags
        sampler = LimitSampler(gateway_url, seconds) if adaptive and connections == max(options.connections) else None
        for thread in (probe, sampler):
            if thread:
                thread.start()
        result = run_wrk(gateway_url + PATH, connections, seconds, timeout)
        cpu = {role: round(cpu_seconds(pid) - before[pid], 2) for role, pid in pids}
        cpu["wrk"] = result.pop("wrk_cpu_seconds")
        for thread in (probe, sampler):
            if thread:
                thread.join(timeout=10)
        limit = connections / LATENCY_S
        served = result["statuses"].get("200", 0)
        rows.append({"scenario": name, "server": server, "connections": connections, "seconds": seconds, **result,
                     "ok_rps": round(served / result["seconds"], 1) if result["seconds"] else 0.0,
                     "shed_503": result["statuses"].get("503", 0),
                     "limit_rps": limit, "ratio_to_limit": round(result["rps"] / limit, 3), "cpu_seconds": cpu,
                     "cpu_ms_per_request": {role: round(1000 * value / result["requests"], 3) if result["requests"] else None
                                            for role, value in cpu.items()},
                     "gateway_peak_rss_mib": round(rss_kib(gateway.pid, "VmHWM") / 1024, 1),
                     "probe": probe.summary(), "limit_trajectory": sampler.points if sampler else None})
        stop(gateway)
    rate = None if options.skip_overload or options.skip_high else overload_rate(rows, options.overload_rate)
    overloads = []
    if rate:
        settings = [["--max-in-flight", "auto"]] + ([] if options.skip_fixed else [FIXED_LIMIT])
        overloads = [run_overload(binary, location_url, sun_url, (location, sun), rate, options.seconds, limit) for limit in settings]
    upstream_rss = {"location": round(rss_kib(location.pid, "VmHWM") / 1024, 1), "sun": round(rss_kib(sun.pid, "VmHWM") / 1024, 1)}
    stop(sun)
    stop(location)
    report(rows, overloads, upstream_rss, options, fd_limit, load_before)


def run_overload(binary, location_url, sun_url, upstreams, rate, seconds, limit_flags):
    """The open-loop overload against a fresh async gateway with `limit_flags` (`--max-in-flight auto` or a number)."""
    setting = " ".join(limit_flags)
    print(f"[overload] async {setting}: cityscape-openload --rate {rate:g} --duration {seconds}s --timeout 5s", flush=True)
    gateway, gateway_url, _ = start(binary("cityscape-gateway"), "--location-url", location_url, "--sun-url", sun_url,
                                    "--mode", "async", *limit_flags, *connection_room(OPENLOAD_CONNECTIONS))
    pids = (("gateway", gateway.pid), ("location", upstreams[0].pid), ("sun", upstreams[1].pid))
    before = {pid: cpu_seconds(pid) for _, pid in pids}
    sampler = LimitSampler(gateway_url, seconds)
    sampler.start()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = loadgen.run(binary("cityscape-openload"), gateway_url + PATH, rate=rate, duration_s=seconds, timeout_s=5.0)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {role: round(cpu_seconds(pid) - before[pid], 2) for role, pid in pids}
    cpu["openload"] = round((after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime), 2)
    sampler.join(timeout=10)
    rss_mib = round(rss_kib(gateway.pid, "VmHWM") / 1024, 1)
    stop(gateway)
    statuses = by_status(result["records"])
    return {"setting": setting, "rate": rate, "seconds": seconds, "requests": result["requests"], "by_status": statuses,
            "ok_rps": round(statuses.get("200", {"n": 0})["n"] / seconds, 1),
            "shed_rps": round(statuses.get("503", {"n": 0})["n"] / seconds, 1),
            "timeouts": result["timeouts"], "overflow": result["overflow"],
            "connect_errors": result["connect_errors"], "read_errors": result["read_errors"],
            "schedule_lag_p99_ms": result["schedule_lag_ms"]["p99"], "connections_opened": result["connections_opened"],
            "cpu_seconds": cpu, "cpu_ms_per_request": {role: round(1000 * value / result["requests"], 3) if result["requests"] else None
                                                       for role, value in cpu.items()},
            "gateway_peak_rss_mib": rss_mib,
            "limit_trajectory": sampler.points}


def command_line(options):
    """The command that reproduces this run, with every option that was given."""
    flags = [("--skip-high", options.skip_high), ("--skip-course", options.skip_course), ("--skip-peer", options.skip_peer),
             ("--skip-fixed", options.skip_fixed), ("--skip-overload", options.skip_overload)]
    parts = ["python3 -m bench.gateway", options.bin_dir] + [flag for flag, given in flags if given]
    if list(options.connections) != list(HIGH_CONNECTIONS):
        parts.append("--connections " + " ".join(str(c) for c in options.connections))
    if options.seconds != 30:
        parts.append(f"--seconds {options.seconds}")
    if options.overload_rate:
        parts.append(f"--overload-rate {options.overload_rate:g}")
    if options.baseline_bin:
        parts.append(f"--baseline-bin {options.baseline_bin}")
    return " ".join(parts)


def overload_lines(overload):
    """The open-loop overload as a few lines of Markdown."""
    statuses = overload["by_status"]
    per = overload["cpu_ms_per_request"]

    def figures(outcome):
        entry = statuses.get(outcome)
        return f"{entry['n']} (p50 {entry['p50_ms']} ms, p99 {entry['p99_ms']} ms)" if entry else "0"
    others = {outcome: entry["n"] for outcome, entry in statuses.items() if outcome not in ("200", "503")}
    points = ", ".join(f"{p['t']:.0f}s {p['limit']:.0f}/{p['in_flight']:.0f}" for p in overload["limit_trajectory"]
                       if p["limit"] is not None and p["in_flight"] is not None)
    return ["", f"Open-loop overload, async `{overload['setting']}`, cityscape-openload `--rate {overload['rate']:g}` for "
            f"{overload['seconds']} s (timeout 5 s): {overload['requests']} requests; 200: {figures('200')} = "
            f"{overload['ok_rps']:.1f}/s; 503: {figures('503')} = {overload['shed_rps']:.1f}/s; other outcomes {others or 'none'}; "
            f"generator start lag p99 {overload['schedule_lag_p99_ms']} ms, {overload['connections_opened']} connections opened; "
            f"CPU ms per request gateway / location / sun / openload {per['gateway']} / {per['location']} / {per['sun']} / "
            f"{per['openload']}; gateway peak RSS {overload['gateway_peak_rss_mib']} MiB",
            "", f"overload (`{overload['setting']}`): gateway_in_flight_limit / gateway_requests_in_flight each second: {points}"]


def report(rows, overloads, upstream_rss, options, fd_limit, load_before):
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    command = command_line(options)
    with open("/proc/loadavg") as loadavg:
        load = " ".join(loadavg.read().split()[:3])
    lines = [f"Gateway benchmark {stamp}, {os.cpu_count()} cores, L = {LATENCY_S} s, fd limit {fd_limit}, `{command}`, "
             f"load average before {load_before}, at the end {load}", "",
             "| scenario | c | requests | req/s | ratio to c/L | 200/s | avg | p99 | timeouts | socket errors | 503 (bad) | "
             "probe p99 200 / 503 | CPU ms/req gateway / location / sun / wrk | gateway peak RSS |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]

    def ms(value):
        return "–" if value is None else f"{value:.0f} ms"
    for row in rows:
        per = row["cpu_ms_per_request"]
        probe = row["probe"]
        probe_p99 = " / ".join(ms(probe[s]["p99_ms"]) if s in probe else "–" for s in ("200", "503"))
        errors = row["connect_errors"] + row["read_errors"] + row["write_errors"]
        lines.append(f"| {row['scenario']} | {row['connections']} | {row['requests']} | {row['rps']:.1f} | {row['ratio_to_limit']:.2f} | "
                     f"{row['ok_rps']:.1f} | {ms(row['avg_ms'])} | {ms(row['p99_ms'])} | {row['timeouts']} | {errors} | "
                     f"{row['shed_503']} ({row['bad_503']}) | {probe_p99} | "
                     f"{per['gateway']} / {per['location']} / {per['sun']} / {per['wrk']} | {row['gateway_peak_rss_mib']} MiB |")
    for overload in overloads:
        lines += overload_lines(overload)
    lines += ["", f"Upstream peak RSS: location {upstream_rss['location']} MiB, sun {upstream_rss['sun']} MiB"]
    for row in rows:
        if row["limit_trajectory"]:
            points = ", ".join(f"{p['t']:.0f}s {p['limit']:.0f}/{p['in_flight']:.0f}" for p in row["limit_trajectory"]
                               if p["limit"] is not None and p["in_flight"] is not None)
            lines += ["", f"{row['scenario']}: gateway_in_flight_limit / gateway_requests_in_flight each second: {points}"]
    base = os.path.join(ROOT, "results", f"gateway-{stamp}")
    publish_results(base, {"date": stamp, "cores": os.cpu_count(), "command": command, "latency_s": LATENCY_S, "fd_limit": fd_limit,
                           "load_average_start": load_before, "load_average_end": load, "scenarios": rows, "overloads": overloads,
                           "upstream_peak_rss_mib": upstream_rss}, lines)


if __name__ == "__main__":
    main()

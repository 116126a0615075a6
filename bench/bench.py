"""make bench: Cityscape against what users would pick instead, every comparison side by side in one run.

1. proxy: one backend directly vs nginx vs HAProxy vs cityscape-proxy, each round-robin over the same 2
   backends (single-process nginx answering `{"ok":true}`, as in shared/notes/proxy-anchors.md), at
   c=50/200/1000, interleaved (the order rotates every repetition), >= 3 repetitions: median req/s,
   ratio to nginx, p99, the proxy's CPU seconds per 10k requests (utime+stime from /proc, all of its
   processes) and peak RSS (sampled). Then the kill-a-backend run for each proxy: backend 2 gets
   SIGKILL 3 s into a GET load and is restarted 4 s later; client-visible errors are counted.
   The proxy configs are deploy/nginx/cityscape.conf and deploy/haproxy/cityscape.cfg, rendered with
   this run's ports into a temporary directory (checked with nginx -t / haproxy -c first).
2. gateway, location and sun at --latency 500ms (L = 1 s): async at c=1000 and c=5000; blocking
   throughput vs workers N = 1, 2, 4, 8, 16 (c = 2N); 1, 2 and 4 blocking replicas x 4 workers behind
   cityscape-proxy (c = 8 per replica).
2b. slow-replica (bench/slow_replica.py, also in make demo): 4 blocking replicas x 4 workers behind each
   balancer, one with its upstreams at 3 x L, open loop at 70 % of N/L after a warm-up: p50/p99, timeouts
   and shares for round-robin, least-outstanding, p2c, least-outstanding + --outlier-latency, nginx
   least_conn and HAProxy leastconn, against 1.2 x the all-healthy p99.
3. peers, behind the same location and sun: bench/peers/ Flask (threaded, gunicorn gthread) and
   Quart on Hypercorn with aiohttp, installed from PyPI into .venv/ (Quart 0.22.0: 0.23 needs
   Python >= 3.13); the seed scenario (c=20, 15 s, --timeout 2s) and c=1000, c=4000. Ratios Cityscape/peer.

Writes results/bench-<UTC timestamp>.json, .md and .svg. Loopback only; every load is bounded by wrk -d.
Usage (from the repository root): python3 -m bench.bench BIN_DIR [--reps 3] [--seconds 5] [--quick] [--only proxy,gateway,slow-replica,peers] [--out DIR]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from bench import slow_replica
from tools.cityscape_tools import charts
from tools.cityscape_tools.harness import free_port, run_main, spawn, start, stop, wait_healthy
from tools.cityscape_tools.procs import children, cpu_seconds, loadavg, rss_kib
from tools.cityscape_tools.results import median, ratio, timestamp, write_results
from tools.cityscape_tools.wrk import countdown, wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV = os.path.join(ROOT, ".venv")
PEERS = os.path.join(ROOT, "bench", "peers")
GATEWAY_PATH = "/api/sun/97227/US?date=2026-06-21"
TARGETS = ["direct", "nginx", "nginx-least_conn", "haproxy", "cityscape-proxy", "cityscape-proxy-least-outstanding",
           "cityscape-proxy-outlier-ejection", "nio-relay"]
# The least-outstanding proxy again with latency outlier ejection on: what measuring every response costs.
EJECTION_FLAGS = ["--outlier-latency", "2"]
# The proxies in the kill-a-backend run. `nio-relay` (cityscape-bench-relay) is a byte relay to backend 1 only,
# no HTTP: measured as the floor under any SwiftNIO proxy, not as a proxy.
PROXIES = ["nginx", "haproxy", "cityscape-proxy"]
began = time.monotonic()


def say(text):
    print(f"[{time.monotonic() - began:5.0f} s] {text}", flush=True)


# ---------------------------------------------------------------------------------------------- configs

def render(text, ports):
    """The deploy config with the stack ports (8080 listen, 8010/8011 backends) replaced by this run's."""
    for old, new in ports.items():
        text = text.replace(f"127.0.0.1:{old}", f"127.0.0.1:{new}")
    return text


def backend_conf(port, directory):
    return f"""worker_processes 1;
master_process off;
daemon off;
pid {directory}/backend-{port}.pid;
error_log {directory}/backend-{port}.log warn;
events {{ worker_connections 10240; }}
http {{
    access_log off;
    keepalive_requests 100000;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ default_type application/json; return 200 '{{"ok":true}}'; }}
    }}
}}
"""


class Processes:
    """A process and its children (nginx master + workers): CPU seconds and RSS over all of them."""

    def __init__(self, process):
        self.process = process
        self.pids = [process.pid] + children(process.pid)

    def cpu(self):
        return sum(cpu_seconds(pid) for pid in self.pids)

    def rss_mib(self):
        return sum(rss_kib(pid) for pid in self.pids) / 1024


class PeakSampler(threading.Thread):
    """Samples the summed RSS of some processes every 0.5 s while a run lasts."""

    def __init__(self, group):
        super().__init__(daemon=True)
        self.group, self.peak, self.running = group, 0.0, True

    def run(self):
        while self.running:
            try:
                self.peak = max(self.peak, self.group.rss_mib())
            except (FileNotFoundError, ProcessLookupError):
                pass
            time.sleep(0.5)

    def finish(self):
        self.running = False
        self.join()
        return round(self.peak, 1)


# ---------------------------------------------------------------------------------------------- proxies

def start_backend(port, directory):
    path = os.path.join(directory, f"backend-{port}.conf")
    with open(path, "w") as conf:
        conf.write(backend_conf(port, directory))
    process = spawn(["nginx", "-c", path, "-p", directory])
    wait_healthy(process, f"http://127.0.0.1:{port}/")
    return process


def start_proxies(binary, backends, directory):
    ports = {name: free_port() for name in TARGETS[1:]}
    nginx_conf = os.path.join(directory, "nginx.conf")
    haproxy_conf = os.path.join(directory, "haproxy.cfg")
    with open(os.path.join(ROOT, "deploy", "nginx", "cityscape.conf")) as source, open(nginx_conf, "w") as out:
        out.write(render(source.read(), {8080: ports["nginx"], 8010: backends[0], 8011: backends[1]}))
    with open(os.path.join(ROOT, "deploy", "haproxy", "cityscape.cfg")) as source, open(haproxy_conf, "w") as out:
        out.write(render(source.read(), {8080: ports["haproxy"], 8010: backends[0], 8011: backends[1]}))
    # The same nginx config with `least_conn` in the upstream block: the anchor for our least-outstanding row.
    least_conn_conf = os.path.join(directory, "nginx-least_conn.conf")
    with open(os.path.join(ROOT, "deploy", "nginx", "cityscape.conf")) as source, open(least_conn_conf, "w") as out:
        text = render(source.read(), {8080: ports["nginx-least_conn"], 8010: backends[0], 8011: backends[1]})
        out.write(text.replace("upstream cityscape_gateways {", "upstream cityscape_gateways {\n        least_conn;", 1))
    nginx_globals = f"daemon off; pid {directory}/nginx.pid; error_log {directory}/nginx-error.log warn;"
    least_conn_globals = f"daemon off; pid {directory}/nginx-least_conn.pid; error_log {directory}/nginx-least_conn-error.log warn;"
    for check in (["nginx", "-t", "-q", "-c", nginx_conf, "-p", directory, "-g", nginx_globals],
                  ["nginx", "-t", "-q", "-c", least_conn_conf, "-p", directory, "-g", least_conn_globals],
                  ["haproxy", "-c", "-q", "-f", haproxy_conf]):
        result = subprocess.run(check, capture_output=True, text=True)
        if result.returncode != 0:
            sys.exit(f"bench: config check failed: {' '.join(check)}\n{result.stdout}{result.stderr}")
    processes = {
        "nginx": spawn(["nginx", "-c", nginx_conf, "-p", directory, "-g", nginx_globals]),
        "nginx-least_conn": spawn(["nginx", "-c", least_conn_conf, "-p", directory, "-g", least_conn_globals]),
        "haproxy": spawn(["haproxy", "-db", "-f", haproxy_conf], log=os.path.join(directory, "haproxy.log")),
        "cityscape-proxy": spawn([binary("cityscape-proxy"), "--port", str(ports["cityscape-proxy"]), "--admin", "off",
                                  "--log-level", "warning", "--backend", f"127.0.0.1:{backends[0]}",
                                  "--backend", f"127.0.0.1:{backends[1]}"]),
        "cityscape-proxy-least-outstanding": spawn([
            binary("cityscape-proxy"), "--port", str(ports["cityscape-proxy-least-outstanding"]), "--admin", "off",
            "--log-level", "warning", "--balance", "least-outstanding", "--backend", f"127.0.0.1:{backends[0]}",
            "--backend", f"127.0.0.1:{backends[1]}"]),
        "cityscape-proxy-outlier-ejection": spawn([
            binary("cityscape-proxy"), "--port", str(ports["cityscape-proxy-outlier-ejection"]), "--admin", "off",
            "--log-level", "warning", "--balance", "least-outstanding", *EJECTION_FLAGS, "--backend", f"127.0.0.1:{backends[0]}",
            "--backend", f"127.0.0.1:{backends[1]}"]),
        "nio-relay": spawn([binary("cityscape-bench-relay"), str(ports["nio-relay"]), str(backends[0])]),
    }
    for name, process in processes.items():
        wait_healthy(process, f"http://127.0.0.1:{ports[name]}/")
    time.sleep(0.5)  # nginx forks its workers after the listener answers
    return {name: (Processes(process), f"http://127.0.0.1:{ports[name]}/") for name, process in processes.items()}


def summarize_proxy(runs, connection_counts):
    """Per (c, target): median req/s and p99 over the repetitions, ratios to nginx, CPU per 10k, peak RSS."""
    summary = []
    for connections in connection_counts:
        rows = {}
        for target in TARGETS:
            mine = [run for run in runs if run["target"] == target and run["connections"] == connections]
            if not mine:
                continue
            rows[target] = {
                "connections": connections, "target": target, "n": len(mine),
                "rps": median([run["rps"] for run in mine]), "rps_min": min(run["rps"] for run in mine),
                "rps_max": max(run["rps"] for run in mine), "p99_ms": median([run["p99_ms"] for run in mine]),
                "errors": sum(run["socket_errors"] + run["non_2xx"] for run in mine),
                "cpu_s_per_10k": median([run.get("proxy_cpu_s_per_10k") for run in mine]),
                "peak_rss_mib": max((run.get("proxy_peak_rss_mib") or 0) for run in mine) or None,
            }
        nginx = rows.get("nginx", {})
        # Each least-connections row is also compared with its own round-robin and with nginx least_conn.
        least = rows.get("cityscape-proxy-least-outstanding")
        if least:
            least["rps_vs_round_robin"] = ratio(least["rps"], rows.get("cityscape-proxy", {}).get("rps"))
            least["rps_vs_nginx_least_conn"] = ratio(least["rps"], rows.get("nginx-least_conn", {}).get("rps"))
        ejecting = rows.get("cityscape-proxy-outlier-ejection")
        if ejecting:
            ejecting["rps_vs_least_outstanding"] = ratio(ejecting["rps"], least.get("rps") if least else None)
        for row in rows.values():
            row["rps_vs_nginx"] = ratio(row["rps"], nginx.get("rps"))
            row["p99_vs_nginx"] = ratio(row["p99_ms"], nginx.get("p99_ms"))
            row["cpu_vs_nginx"] = ratio(row["cpu_s_per_10k"], nginx.get("cpu_s_per_10k"))
            summary.append(row)
    return summary


def restart_and_watch(port, directory, window, restarted):
    """Restarts a killed backend and times how long after it answers (to our own probe) the proxy sends it
    traffic again: the first 0.1 s in which it burns 20 ms of CPU (health checks alone cost far less).
    Stores the process in restarted["p"] and the delay in restarted["back_s"] (absent: not within `window`)."""
    process = start_backend(port, directory)
    restarted["p"] = process
    answered = time.monotonic()
    group = Processes(process)
    last = group.cpu()
    while time.monotonic() < answered + window:
        time.sleep(0.1)
        now = group.cpu()
        if now - last >= 0.02:
            restarted["back_s"] = round(time.monotonic() - answered, 1)
            return
        last = now


def proxy_bench(binary, options, directory, out):
    backends = [free_port(), free_port()]
    backend_processes = [start_backend(port, directory) for port in backends]
    proxies = start_proxies(binary, backends, directory)
    urls = {"direct": f"http://127.0.0.1:{backends[0]}/", **{name: url for name, (_, url) in proxies.items()}}
    runs = []
    total = options.reps * len(options.proxy_connections) * len(TARGETS)
    for rep in range(options.reps):
        for connections in options.proxy_connections:
            order = TARGETS[rep % len(TARGETS):] + TARGETS[:rep % len(TARGETS)]
            for target in order:
                say(f"proxy [{len(runs) + 1}/{total}] rep {rep + 1}, c={connections}, {target}")
                group = proxies[target][0] if target != "direct" else None
                before = group.cpu() if group else 0
                sampler = PeakSampler(group) if group else None
                if sampler:
                    sampler.start()
                result = wrk(urls[target], connections, options.seconds, "5s")
                row = {"rep": rep, "connections": connections, "target": target, **result}
                if group:
                    cpu = group.cpu() - before
                    row.update(proxy_cpu_s=round(cpu, 3), proxy_peak_rss_mib=sampler.finish(),
                               proxy_cpu_s_per_10k=ratio(cpu, result["requests"] / 10000, 3))
                runs.append(row)
                time.sleep(1)
    out["proxy_runs"] = runs
    out["proxy"] = summarize_proxy(runs, options.proxy_connections)

    # Kill a backend under GET load, once per proxy: SIGKILL at 3 s, restarted at 7 s, 10 s of load.
    faults = []
    for target in PROXIES:
        say(f"fault: kill backend 2 under wrk -c50 -d{options.fault_seconds}s through {target}")
        victim = backend_processes[1]
        timer_kill = threading.Timer(3, lambda p=victim: p.send_signal(signal.SIGKILL))
        restarted = {}
        timer_start = threading.Timer(7, lambda: restart_and_watch(backends[1], directory, options.fault_seconds - 7, restarted))
        timer_kill.start()
        timer_start.start()
        result = wrk(urls[target], 50, options.fault_seconds, "5s")
        timer_kill.join()
        timer_start.join()
        stop(victim)
        backend_processes[1] = restarted.get("p") or start_backend(backends[1], directory)
        faults.append({"target": target, "requests": result["requests"], "rps": result["rps"],
                       "errors": result["socket_errors"] + result["non_2xx"], "non_2xx": result["non_2xx"],
                       "read_errors": result["read_errors"], "timeouts": result["timeouts"],
                       "connect_errors": result["connect_errors"], "p99_ms": result["p99_ms"],
                       "back_in_rotation_s": restarted.get("back_s")})
        time.sleep(3)  # let every proxy see the backend healthy again before the next one
    out["proxy_fault"] = faults
    for name, (group, _) in proxies.items():
        stop(group.process)
    for process in backend_processes:
        stop(process)


# ---------------------------------------------------------------------------------------------- gateway

def load(url, connections, seconds, timeout, groups, label):
    """One wrk run with CPU seconds and peak RSS per named process group."""
    before = {name: group.cpu() for name, group in groups.items()}
    samplers = {name: PeakSampler(group) for name, group in groups.items()}
    for sampler in samplers.values():
        sampler.start()
    tick = countdown(f"        {label}: ")
    result = wrk(url, connections, seconds, timeout, progress=tick)
    tick.done()
    return {**result, "connections": connections, "limit_rps": connections / 1.0,
            "ratio_to_limit": ratio(result["rps"], connections / 1.0),
            "cpu_s": {name: round(group.cpu() - before[name], 2) for name, group in groups.items()},
            "peak_rss_mib": {name: sampler.finish() for name, sampler in samplers.items()}}


def gateway_bench(binary, upstreams, options, out):
    location_url, sun_url, upstream_groups = upstreams
    gw = lambda *flags: start(binary("cityscape-gateway"), "--location-url", location_url, "--sun-url", sun_url,
                              "--queue-limit", "100000", *flags)
    rows = []
    for connections in options.async_connections:
        say(f"gateway: async at c={connections}, {options.high_seconds} s")
        process, url, _ = gw("--mode", "async")
        row = load(url + GATEWAY_PATH, connections, options.high_seconds, "5s",
                   {"gateway": Processes(process), **upstream_groups}, f"async c={connections}")
        rows.append({"scenario": f"async c={connections}", **row})
        stop(process)
    for workers in options.workers:
        say(f"gateway: blocking, {workers} workers, c={2 * workers}, {options.seconds * 2} s")
        process, url, _ = gw("--mode", "blocking", "--workers", str(workers))
        row = load(url + GATEWAY_PATH, 2 * workers, options.seconds * 2, "5s",
                   {"gateway": Processes(process), **upstream_groups}, f"blocking ×{workers}")
        rows.append({"scenario": f"blocking workers={workers}", "workers": workers, "expected_rps": workers / 1.0,
                     "ratio_to_expected": ratio(row["rps"], workers / 1.0), **row})
        stop(process)
    for replicas in options.replicas:
        say(f"gateway: {replicas} blocking replicas × 4 workers behind cityscape-proxy, c={8 * replicas}")
        gateways = [gw("--mode", "blocking", "--workers", "4") for _ in range(replicas)]
        backends = [arg for _, base, _ in gateways for arg in ("--backend", base.removeprefix("http://"))]
        proxy, url, _ = start(binary("cityscape-proxy"), "--admin", "off", *backends)

        class Many(Processes):
            def __init__(self, processes):
                self.pids = [p.pid for p in processes]
        row = load(url + GATEWAY_PATH, 8 * replicas, options.seconds * 2, "5s",
                   {"gateways": Many([p for p, _, _ in gateways]), "proxy": Processes(proxy), **upstream_groups},
                   f"{replicas} replicas")
        rows.append({"scenario": f"replicas={replicas}×4 + proxy", "replicas": replicas,
                     "expected_rps": 4.0 * replicas, "ratio_to_expected": ratio(row["rps"], 4.0 * replicas), **row})
        stop(proxy)
        for process, _, _ in gateways:
            stop(process)
    out["gateway"] = rows


# ---------------------------------------------------------------------------------------------- peers

def ensure_venv():
    python = os.path.join(VENV, "bin", "python")
    requirements = os.path.join(PEERS, "requirements.txt")
    stamp = os.path.join(VENV, ".cityscape-requirements")
    wanted = open(requirements).read()
    if os.path.exists(stamp) and open(stamp).read() == wanted:
        return python
    say(f"peers: installing {requirements} into {VENV} (PyPI)")
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", "-r", requirements], check=True)
    with open(stamp, "w") as out:
        out.write(wanted)
    return python


def start_peer(kind, threads, location_url, sun_url, directory):
    port = free_port()
    bin_dir = os.path.join(VENV, "bin")
    env = {"LOCATION_URL": location_url, "SUN_URL": sun_url, "PYTHONPATH": PEERS}
    if kind == "flask":
        command = [os.path.join(bin_dir, "gunicorn"), "-k", "gthread", "-w", "1", "--threads", str(threads),
                   "--backlog", "4096", "-b", f"127.0.0.1:{port}", "--log-level", "warning", "flask_app:app"]
    else:
        command = [os.path.join(bin_dir, "hypercorn"), "-w", "1", "--backlog", "4096", "-b", f"127.0.0.1:{port}",
                   "--log-level", "warning", "quart_app:app"]
    process = spawn(command, env=env, log=os.path.join(directory, f"{kind}.log"))
    wait_healthy(process, f"http://127.0.0.1:{port}/healthz")
    return process, f"http://127.0.0.1:{port}"


def peers_bench(binary, upstreams, options, directory, out):
    ensure_venv()
    location_url, sun_url, upstream_groups = upstreams
    plan = [  # (load label, connections, seconds, timeout, [(server label, kind, arg)])
        ("seed c=20", 20, options.seed_seconds, "2s",
         [("cityscape blocking ×4", "blocking", 4), ("flask gthread ×4", "flask", 4),
          ("cityscape async", "async", None), ("quart + aiohttp", "quart", None)]),
    ] + [(f"c={c}", c, options.seconds * 2, "5s",
          [("cityscape async", "async", None), ("quart + aiohttp", "quart", None), ("flask gthread ×1000", "flask", 1000)])
         for c in options.peer_connections]
    rows = []
    for load_label, connections, seconds, timeout, servers in plan:
        for server, kind, arg in servers:
            say(f"peers: {load_label}, {server}, {seconds} s")
            if kind in ("blocking", "async"):
                flags = ["--mode", kind] + (["--workers", str(arg)] if kind == "blocking" else [])
                process, url, _ = start(binary("cityscape-gateway"), "--location-url", location_url, "--sun-url", sun_url,
                                        "--queue-limit", "100000", *flags)
            else:
                process, url = start_peer(kind, arg, location_url, sun_url, directory)
            group = Processes(process)
            row = load(url + GATEWAY_PATH, connections, seconds, timeout, {"server": group, **upstream_groups},
                       f"{load_label} {server}")
            rows.append({"load": load_label, "server": server, **row})
            stop(process)
    for row in rows:
        pairs = {"cityscape blocking ×4": ["flask gthread ×4"],
                 "cityscape async": ["quart + aiohttp", "flask gthread ×4", "flask gthread ×1000"]}
        for peer in pairs.get(row["server"], []):
            other = next((r for r in rows if r["load"] == row["load"] and r["server"] == peer), None)
            if other:
                row.setdefault("ratio_to", {})[peer] = ratio(row["rps"], other["rps"])
    out["peers"] = rows


# ---------------------------------------------------------------------------------------------- report

def slow_replica_bench(binary, upstreams, options, out):
    """The slow-replica scenario of make demo, every balancer side by side (see bench/slow_replica.py)."""
    say(f"slow replica: {slow_replica.REPLICAS} x {slow_replica.WORKERS} blocking, one at {slow_replica.SLOW_FACTOR} x L; "
        f"{slow_replica.WARMUP_S} s warm-up + {options.slow_seconds} s per balancer")

    def progress(run):
        say(f"  {run['label']}: p50 {run['p50_ms']:,.0f} ms, p99 {run['p99_ms']:,.0f} ms, {run['timeouts']} timeouts of "
            f"{run['requests']}; shares {' / '.join(f'{share:.0%}' for share in run['replica_shares'])}")

    out["slow_replica"] = slow_replica.run(binary, binary("cityscape-openload"), upstreams[:2], 1.0, options.slow_seconds,
                                           slow_replica.TIMEOUT_S, progress, anchors=slow_replica.anchors_available())


def fmt(value, pattern="{:,.0f}"):
    return "–" if value is None else pattern.format(value)


def report(out):
    lines = [f"# Cityscape benchmark {out['date']}", "",
             f"{out['cores']} cores, load average before: {out['load_before']}, `{out['command']}`, "
             f"{out['elapsed_s']:.0f} s. Versions: {out['versions']}.",
             "Load average (1/5/15 min) along the run: " + "; ".join(f"{k} {v}" for k, v in out.get("load", {}).items()) +
             " — wrk, the servers and any other work on the machine share the same cores.", ""]
    if "proxy" in out:
        lines += ["## Proxy: one backend direct vs nginx vs HAProxy vs cityscape-proxy (2 backends, round-robin; "
                  "least-connections rows: nginx `least_conn`, cityscape-proxy `--balance least-outstanding`, "
                  "and that with `--outlier-latency`)", "",
                  f"`wrk -t2 -cN -d{out['options']['seconds']}s --latency`, {out['options']['reps']} interleaved repetitions, "
                  "backends: single-process nginx returning `{\"ok\":true}`. `nio-relay` is `cityscape-bench-relay`, a SwiftNIO "
                  "byte relay to backend 1 with no HTTP at all: the floor under any proxy built on SwiftNIO, not a proxy.", "",
                  "| c | target | n | req/s median (min–max) | × nginx | p99 ms | × nginx p99 | proxy CPU-s / 10k req | × nginx CPU | proxy peak RSS MiB | errors |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in out["proxy"]:
            lines.append(f"| {row['connections']} | {row['target']} | {row['n']} | {fmt(row['rps'])} ({fmt(row['rps_min'])}–{fmt(row['rps_max'])}) | "
                         f"{fmt(row['rps_vs_nginx'], '{:.2f}')} | {fmt(row['p99_ms'], '{:.1f}')} | {fmt(row['p99_vs_nginx'], '{:.2f}')} | "
                         f"{fmt(row['cpu_s_per_10k'], '{:.3f}')} | {fmt(row['cpu_vs_nginx'], '{:.2f}')} | {fmt(row['peak_rss_mib'], '{:.0f}')} | {row['errors']} |")
        least_rows = [row for row in out["proxy"] if "rps_vs_round_robin" in row]
        if least_rows:
            lines += ["", "cityscape-proxy least-outstanding req/s: " + "; ".join(
                f"c={row['connections']}: {fmt(row['rps_vs_round_robin'], '{:.2f}')} × its round-robin, "
                f"{fmt(row['rps_vs_nginx_least_conn'], '{:.2f}')} × nginx least_conn" for row in least_rows) + "."]
        ejecting_rows = [row for row in out["proxy"] if "rps_vs_least_outstanding" in row]
        if ejecting_rows:
            lines += ["", f"cityscape-proxy least-outstanding with `{' '.join(EJECTION_FLAGS)}` (every response timed) req/s: " + "; ".join(
                f"c={row['connections']}: {fmt(row['rps_vs_least_outstanding'], '{:.2f}')} × least-outstanding without it"
                for row in ejecting_rows) + "."]
        lines += ["", "Kill a backend under load (`wrk -t2 -c50 --timeout 5s`, backend 2 SIGKILLed at 3 s, restarted at 7 s; "
                  "back in rotation: from the restarted backend answering until the proxy sends it traffic, 0.1 s resolution):", "",
                  "| proxy | requests | req/s | client errors | of which non-2xx / read / timeout / connect | p99 ms | back in rotation |",
                  "|---|---|---|---|---|---|---|"]
        for row in out["proxy_fault"]:
            back = row.get("back_in_rotation_s")
            back_text = f"{back:.1f} s" if back is not None else ("not within the run" if "back_in_rotation_s" in row else "–")
            lines.append(f"| {row['target']} | {row['requests']:,} | {row['rps']:,.0f} | {row['errors']} | {row['non_2xx']} / "
                         f"{row['read_errors']} / {row['timeouts']} / {row['connect_errors']} | {fmt(row['p99_ms'], '{:.1f}')} | {back_text} |")
        lines.append("")
    if "gateway" in out:
        lines += ["## Gateway (location and sun at --latency 500ms, L = 1 s)", "",
                  "| scenario | c | requests | req/s | ratio to c/L | ratio to expected | avg ms | p99 ms | timeouts | errors | CPU s (per process) | peak RSS MiB (per process) |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in out["gateway"]:
            lines.append(f"| {row['scenario']} | {row['connections']} | {row['requests']:,} | {row['rps']:,.1f} | {row['ratio_to_limit']:.2f} | "
                         f"{fmt(row.get('ratio_to_expected'), '{:.2f}')} | {fmt(row['avg_ms'])} | {fmt(row['p99_ms'])} | {row['timeouts']} | "
                         f"{row['socket_errors'] - row['timeouts'] + row['non_2xx']} | "
                         f"{', '.join(f'{k} {v}' for k, v in row['cpu_s'].items())} | {', '.join(f'{k} {v:.0f}' for k, v in row['peak_rss_mib'].items())} |")
        lines += ["", "Expected for blocking: N workers / L (each request holds a worker for L); replicas: 4 × R / L. "
                  f"In a {2 * out['options']['seconds']} s window a worker completes at most {2 * out['options']['seconds'] - 1} "
                  "requests of just over 1.0 s, so 0.90 is the ceiling of that column here.", ""]
    if "slow_replica" in out:
        lines += slow_replica.md_lines(out["slow_replica"])[1:] + [""]
    if "peers" in out:
        lines += ["## Peers: the same endpoint in Flask (gunicorn gthread) and Quart (Hypercorn + aiohttp)", "",
                  "| load | server | requests | req/s | ratio to c/L | avg ms | p99 ms | timeouts | errors | server CPU s | server peak RSS MiB | Cityscape / peer |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for row in out["peers"]:
            ratios = ", ".join(f"{v:.2f} × {k}" for k, v in row.get("ratio_to", {}).items() if v is not None)
            lines.append(f"| {row['load']} | {row['server']} | {row['requests']:,} | {row['rps']:,.1f} | {row['ratio_to_limit']:.2f} | "
                         f"{fmt(row['avg_ms'])} | {fmt(row['p99_ms'])} | {row['timeouts']} | {row['socket_errors'] - row['timeouts'] + row['non_2xx']} | "
                         f"{row['cpu_s']['server']} | {row['peak_rss_mib']['server']:.0f} | {ratios or '–'} |")
        lines.append("")
        if any(row["requests"] == 0 for row in out["peers"]):
            lines += ["A row with 0 requests got no answer at all within the run: wrk counts a timeout only for a "
                      "response that arrives late, never for a request still unanswered when the run ends.", ""]
    return lines


def short_label(scenario):
    """x labels that fit 10 to a row: async c=1000 → async 1k, blocking workers=4 → N=4, replicas=2×4 + proxy → R=2."""
    if scenario.startswith("async c="):
        count = int(scenario.split("=")[1])
        return f"async {count // 1000}k" if count % 1000 == 0 else scenario
    return scenario.replace("blocking workers=", "N=").replace("replicas=", "R=").replace("×4 + proxy", "")


def colour(index):
    """The palette's colours in turn; the proxy table has more targets than it has colours."""
    return charts.PALETTE[index % len(charts.PALETTE)]


def svg(out, path):
    panels = []
    if "proxy" in out:
        cs = out["options"]["proxy_connections"]
        by = {(row["target"], row["connections"]): row for row in out["proxy"]}
        panels.append({"title": "proxy: median req/s (2 backends, tiny JSON)", "categories": [f"c={c}" for c in cs],
                       "series": [(t, [by[(t, c)]["rps"] for c in cs], colour(i)) for i, t in enumerate(TARGETS)]})
        panels.append({"title": "proxy: CPU seconds per 10k requests (lower is better)", "categories": [f"c={c}" for c in cs],
                       "series": [(t, [by[(t, c)]["cpu_s_per_10k"] for c in cs], colour(i + 1))
                                  for i, t in enumerate(TARGETS[1:])]})
    if "gateway" in out:
        rows = out["gateway"]
        panels.append({"title": "gateway: req/s as a share of its limit (c/L for async, N/L for blocking, 4R/L for replicas)",
                       "categories": [short_label(row["scenario"]) for row in rows],
                       "line": (1.0, "limit"),
                       "series": [("share of limit", [row.get("ratio_to_expected") or row["ratio_to_limit"] for row in rows],
                                   charts.PALETTE[0])]})
    if "peers" in out:
        loads = list(dict.fromkeys(row["load"] for row in out["peers"]))
        servers = list(dict.fromkeys(row["server"] for row in out["peers"]))
        by = {(row["load"], row["server"]): row for row in out["peers"]}
        panels.append({"title": "peers: req/s as a share of c/L", "categories": loads, "line": (1.0, "c/L"),
                       "series": [(s, [by[(l, s)]["ratio_to_limit"] if (l, s) in by else None for l in loads], charts.PALETTE[i])
                                  for i, s in enumerate(servers)]})
    charts.write(path, f"Cityscape benchmark {out['date']} ({out['cores']} cores)", [], panels)


def versions():
    def first_line(command):
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=10)
            return (result.stdout + result.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"
    return {"wrk": first_line(["wrk", "-v"]).split(" [")[0], "nginx": first_line(["nginx", "-v"]).split("/")[-1],
            "haproxy": first_line(["haproxy", "-v"]).split(" ")[2] if shutil.which("haproxy") else "?"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="seconds per proxy run (gateway runs: twice that)")
    parser.add_argument("--quick", action="store_true", help="a 1 s smoke run of everything (for development)")
    parser.add_argument("--only", default="proxy,gateway,slow-replica,peers")
    parser.add_argument("--out", default=os.path.join(ROOT, "results"))
    options = parser.parse_args()
    options.proxy_connections, options.async_connections = [50, 200, 1000], [1000, 5000]
    options.workers, options.replicas, options.peer_connections = [1, 2, 4, 8, 16], [1, 2, 4], [1000, 4000]
    options.high_seconds, options.seed_seconds, options.fault_seconds, options.slow_seconds = 15, 15, 12, 6
    if options.quick:
        options.reps, options.seconds, options.high_seconds, options.seed_seconds = 1, 1, 2, 2
        options.slow_seconds = 2
        options.async_connections, options.workers, options.replicas, options.peer_connections = [200], [1, 4], [2], [200]
    parts = options.only.split(",")
    binary = lambda name: os.path.join(options.bin_dir, name)
    missing = [tool for tool in ("wrk", "nginx", "haproxy") if not shutil.which(tool)]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)} — run scripts/install-deps.sh wrk nginx-light haproxy")

    load_before = loadavg()
    out = {"date": timestamp(), "cores": os.cpu_count(), "load_before": load_before, "versions": versions(),
           "command": "python3 -m bench.bench " + " ".join(sys.argv[1:]),
           "options": {k: v for k, v in vars(options).items() if k != "bin_dir"}}
    say(f"benchmark: {', '.join(parts)}; load average {load_before}")
    directory = tempfile.mkdtemp(prefix="cityscape-bench-")
    out["load"] = {}
    try:
        if "proxy" in parts:
            out["load"]["before proxy"] = loadavg()
            proxy_bench(binary, options, directory, out)
        if "gateway" in parts or "peers" in parts or "slow-replica" in parts:
            location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
            sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
            upstreams = (location_url, sun_url, {"location": Processes(location), "sun": Processes(sun)})
            if "gateway" in parts:
                out["load"]["before gateway"] = loadavg()
                gateway_bench(binary, upstreams, options, out)
            if "slow-replica" in parts:
                out["load"]["before slow replica"] = loadavg()
                slow_replica_bench(binary, upstreams, options, out)
            if "peers" in parts:
                out["load"]["before peers"] = loadavg()
                peers_bench(binary, upstreams, options, directory, out)
            stop(sun)
            stop(location)
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    out["load"]["end"] = loadavg()
    out["elapsed_s"] = round(time.monotonic() - began)
    lines = report(out)
    base = os.path.join(options.out, f"bench-{out['date']}")
    write_results(base, out, lines)
    svg(out, base + ".svg")
    print("\n".join(lines))
    print(f"wrote {base}.json, .md and .svg in {out['elapsed_s']} s")


if __name__ == "__main__":
    run_main(main)

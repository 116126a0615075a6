"""The slow-replica scenario of `make demo`: scale-out is only as good as its balancer.

Four blocking replicas × 4 workers behind cityscape-proxy, one of them slow but alive: its
--location-url and --sun-url point at a second location and sun pair at 3 × the normal latency, so its
requests take 3 × L while the others' take L. An open-loop load at 70 % of the healthy capacity (N/L)
runs once per balancing policy (round-robin, least-outstanding, p2c), and once at the same rate over
four healthy replicas as the baseline. Each proxy's /status says how many requests every replica got.

A fourth proxy row adds latency outlier ejection (`--outlier-latency`) to least-outstanding: the only
policy here that can keep the tail at the healthy replicas' L, because it stops sending the slow replica
anything once it has seen enough of its responses. Seeing them takes a few of its 3 × L responses, so
every configuration gets the same unmeasured warm-up at the same rate first (WARMUP_S, then the measured
run once the warm-up's requests are answered or timed out); the shares count the measured run only.

The healthy baseline runs first and round-robin last: round-robin leaves a queue at the slow replica
that takes longer to drain than the run itself, and nothing runs after it.
"""
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import urllib.request

from bench import lab, loadgen
from tools.cityscape_tools.harness import free_port, spawn, start, stop, wait_healthy

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SLOW_FACTOR = 3
REPLICAS = 4
WORKERS = 4
LOAD_SHARE = 0.7
# The generator's timeout: above the slow replica's 3 × L, so a request it answers counts as slow, not as lost.
TIMEOUT_S = 5.0
# Unmeasured load before each measured run: long enough for the ejecting proxy to see 5 of the slow
# replica's 3 × L responses (least-outstanding sends it about one request in eight until then).
WARMUP_S = 10
# The multiple of the other replicas' median response time that ejects one (`--outlier-latency`).
OUTLIER_FACTOR = 2
EJECTION = ["--outlier-latency", str(OUTLIER_FACTOR)]
# (id, label, balancing policy, the slow replica in the set, more proxy flags); the order in which they run.
# nginx and HAProxy run the repo's deploy configs with their least-connections policy, as anchors.
# The scenario waits on latency, not CPU (11 req/s through blocking gateways is a few percent of a core), so
# configurations run LANES at a time, each lane on five gateways of its own: the same results in a fraction of
# the time.
LANES = 4
CONFIGS = [
    ("healthy", "all healthy (RR)", "round-robin", False, []),
    ("least-outstanding", "least-outstanding", "least-outstanding", True, []),
    ("outlier-ejection", "least-outstanding + outlier ejection", "least-outstanding", True, EJECTION),
    ("p2c", "p2c", "p2c", True, []),
    ("nginx-least_conn", "nginx least_conn", "nginx", True, []),
    ("haproxy-leastconn", "HAProxy leastconn", "haproxy", True, []),
    ("round-robin", "round-robin", "round-robin", True, []),
]
SHOWN = ("healthy", "round-robin", "least-outstanding", "p2c", "outlier-ejection", "nginx-least_conn",
         "haproxy-leastconn")  # page order
ANCHORS = ("nginx", "haproxy")


def proxy_status(admin_url):
    with urllib.request.urlopen(admin_url + "/status", timeout=5) as response:
        return json.load(response)


def requests_by_address(status):
    return {backend["address"]: backend["requests"] for backend in status["backends"]}


def drain(gateways, seconds):
    """Waits until no gateway holds a request any more (the slow one may still work off its queue)."""
    with loadgen.InFlightSampler([base + "/metrics" for _, base in gateways], lab.GATEWAY_METRIC) as sampler:
        return sampler.wait_empty(seconds)


def gateway_requests(gateways):
    """API requests each gateway has finished, from its own http_requests_total (health checks left out)."""
    counts = []
    for _, base in gateways:
        with urllib.request.urlopen(base + "/metrics", timeout=5) as response:
            text = response.read().decode()
        counts.append(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                          if line.startswith("http_requests_total{") and 'route="/api/' in line))
    return counts


def anchors_available():
    return [name for name in ANCHORS if shutil.which(name)]


def start_anchor(kind, backends, directory):
    """nginx (least_conn) or HAProxy (leastconn) from deploy/, rendered with this run's ports and backends."""
    port = free_port()
    addresses = [base.removeprefix("http://") for base in backends]
    if kind == "nginx":
        with open(os.path.join(ROOT, "deploy", "nginx", "cityscape.conf")) as source:
            text = source.read()
        template = re.search(r"^( *)server 127\.0\.0\.1:8010( [^;]*);$", text, re.M)
        servers = "\n".join(f"{template.group(1)}server {address}{template.group(2)};" for address in addresses)
        text = re.sub(r"^ *server 127\.0\.0\.1:8011[^\n]*\n", "", text, flags=re.M).replace(template.group(0), servers)
        text = text.replace("upstream cityscape_gateways {", "upstream cityscape_gateways {\n        least_conn;", 1)
        text = text.replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        path = os.path.join(directory, "nginx.conf")
        settings = f"daemon off; pid {directory}/nginx.pid; error_log {directory}/nginx-error.log warn;"
        command = ["nginx", "-c", path, "-p", directory, "-g", settings]
        check = ["nginx", "-t", "-q", "-c", path, "-p", directory, "-g", settings]
    else:
        with open(os.path.join(ROOT, "deploy", "haproxy", "cityscape.cfg")) as source:
            text = source.read()
        template = re.search(r"^( *)server gateway-b1 127\.0\.0\.1:8010( [^\n]*)$", text, re.M)
        servers = "\n".join(f"{template.group(1)}server gateway-{i + 1} {address}{template.group(2)}"
                             for i, address in enumerate(addresses))
        text = re.sub(r"^ *server gateway-b2 [^\n]*\n?", "", text, flags=re.M).replace(template.group(0), servers)
        text = text.replace("balance roundrobin", "balance leastconn").replace("127.0.0.1:8080", f"127.0.0.1:{port}")
        path = os.path.join(directory, "haproxy.cfg")
        command = ["haproxy", "-db", "-f", path]
        check = ["haproxy", "-c", "-q", "-f", path]
    with open(path, "w") as out:
        out.write(text)
    checked = subprocess.run(check, capture_output=True, text=True)
    if checked.returncode != 0:
        raise RuntimeError(f"{' '.join(check)} failed: {checked.stdout}{checked.stderr}")
    process = spawn(command)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(process, url + "/healthz")
    return process, url


def warm_up(generator, url, rate, warmup_s, timeout_s):
    """The unmeasured load before a measured run, at its rate (see the module's docstring)."""
    if warmup_s > 0:
        loadgen.run(generator, url + lab.PATH, rate=rate, duration_s=warmup_s, timeout_s=timeout_s)


def run(binary, generator, upstreams, latency_s, duration_s, timeout_s, progress=None, anchors=(), configs=None,
        warmup_s=WARMUP_S, settle_s=None):
    """Starts the slow upstreams and LANES sets of five gateways, runs every configuration (or the ids in
    `configs`), stops what it started. Between two configurations of a lane its gateways get up to `settle_s`
    (default: four slow answers) to finish what the first left them, the next warm-up included."""
    settle_s = SLOW_FACTOR * latency_s * 4 if settle_s is None else settle_s
    slow_ms = round(SLOW_FACTOR * latency_s * 1000 / 2)
    rate = round(LOAD_SHARE * REPLICAS * WORKERS / latency_s, 1)
    flags = ["--mode", "blocking", "--workers", str(WORKERS)]
    started = []
    chosen = [config for config in CONFIGS if (configs is None or config[0] in configs)
              and (config[2] not in ANCHORS or config[2] in anchors)]

    def gateways(location_url, sun_url):
        """Four healthy replicas, and the same set with the slow replica in the last one's place (so the replica
        numbers mean the same in every run)."""
        healthy = []
        for _ in range(REPLICAS):
            process, base, _ = start(binary("cityscape-gateway"), "--location-url", upstreams[0], "--sun-url",
                                     upstreams[1], *flags)
            started.append(process)
            healthy.append((process, base))
        process, slow_base, _ = start(binary("cityscape-gateway"), "--location-url", location_url, "--sun-url", sun_url,
                                      *flags)
        started.append(process)
        return healthy, healthy[:-1] + [(process, slow_base)]

    def lane(configurations, healthy, with_slow):
        runs = {}
        for config_id, label, policy, slow, extra in configurations:
            chosen_gateways = with_slow if slow else healthy
            if policy in ANCHORS:
                runs[config_id] = anchor_run(policy, chosen_gateways, generator, config_id, label, rate, duration_s,
                                             timeout_s, latency_s, warmup_s)
            else:
                runs[config_id] = proxy_run(binary, policy, chosen_gateways, generator, config_id, label, slow, rate,
                                            duration_s, timeout_s, latency_s, warmup_s, extra)
            if progress:
                progress(runs[config_id])
            if config_id != configurations[-1][0]:
                # The next configuration's warm-up, unmeasured, goes on letting the slow replica work off what
                # this one left it, so the wait here is only what the warm-up does not cover.
                drain(chosen_gateways, max(0.0, settle_s - warmup_s))
        return runs

    try:
        location, location_url, _ = start(binary("cityscape-location"), "--latency", f"{slow_ms}ms")
        started.append(location)
        sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", f"{slow_ms}ms")
        started.append(sun)
        lanes = [chosen[lane::LANES] for lane in range(LANES)]
        sets = [gateways(location_url, sun_url) for configurations in lanes if configurations]
        runs = {}
        for lane_runs in lab.in_parallel([lambda c=c, g=g: lane(c, *g) for c, g in zip(lanes, sets)]):
            runs.update(lane_runs)
    finally:
        for process in reversed(started):
            stop(process)
    shown = [config_id for config_id in SHOWN if config_id in runs]
    result = {"replicas": REPLICAS, "workers": WORKERS, "latency_s": latency_s, "slow_latency_s": SLOW_FACTOR * latency_s,
              "slow_index": REPLICAS - 1, "capacity_rps": REPLICAS * WORKERS / latency_s, "rate": rate,
              "duration_s": duration_s, "warmup_s": warmup_s, "outlier_factor": OUTLIER_FACTOR, "timeout_s": timeout_s,
              "runs": [runs[i] for i in shown]}
    result["target"] = target(result)
    result["reading"] = reading(result)
    return result


def proxy_run(binary, policy, gateways, generator, config_id, label, slow, rate, duration_s, timeout_s, latency_s,
              warmup_s, extra):
    """One configuration behind cityscape-proxy; the shares come from its /status."""
    proxy, url, admin = lab.start_proxy(binary("cityscape-proxy"), [base for _, base in gateways], "--balance", policy,
                                        *extra)
    try:
        deployment = lab.Deployment(label, gateways, proxy, url, admin)
        warm_up(generator, url, rate, warmup_s, timeout_s)
        before = requests_by_address(proxy_status(admin))  # the warm-up and start_proxy's own /healthz went through it
        report, sampler = lab.measured_run(generator, deployment, drain_s=2, rate=rate, duration_s=duration_s,
                                           timeout_s=timeout_s, warm=math.ceil(rate * latency_s * 1.1))
        step = lab.summarize(report, sampler, offered=rate)
        status = proxy_status(admin)
    finally:
        stop(proxy)
    by_address = {backend["address"]: backend for backend in status["backends"]}
    addresses = [base.removeprefix("http://") for _, base in gateways]
    counts = [by_address[address]["requests"] - before[address] for address in addresses]
    total = sum(counts) or 1
    step.pop("little")
    return {"id": config_id, "label": label, "balance": status["balance"], "flags": extra, "slow_replica": slow,
            "duration_s": duration_s, **step, "replica_requests": counts,
            "replica_shares": [round(c / total, 4) for c in counts],
            "replica_states": [by_address[address]["state"] for address in addresses],
            "latency_ejected": [by_address[address].get("latency_ejected", False) for address in addresses],
            "shares_from": "proxy /status"}


def anchor_run(kind, gateways, generator, config_id, label, rate, duration_s, timeout_s, latency_s, warmup_s):
    """One configuration behind nginx or HAProxy; the shares come from the gateways' own request counters."""
    with tempfile.TemporaryDirectory() as directory:
        process, url = start_anchor(kind, [base for _, base in gateways], directory)
        try:
            deployment = lab.Deployment(label, gateways)
            deployment.url = url
            warm_up(generator, url, rate, warmup_s, timeout_s)
            before = gateway_requests(gateways)
            # The gateways' counters are read once the slow replica's last answers (one slow L) are in.
            report, sampler = lab.measured_run(generator, deployment, drain_s=SLOW_FACTOR * latency_s, rate=rate,
                                               duration_s=duration_s, timeout_s=timeout_s,
                                               warm=math.ceil(rate * latency_s * 1.1))
            step = lab.summarize(report, sampler, offered=rate)
            after = gateway_requests(gateways)
        finally:
            stop(process)
    counts = [round(b - a) for a, b in zip(before, after)]
    total = sum(counts) or 1
    step.pop("little")
    return {"id": config_id, "label": label, "balance": "least_conn" if kind == "nginx" else "leastconn",
            "slow_replica": True, "duration_s": duration_s, **step, "replica_requests": counts,
            "replica_shares": [round(c / total, 4) for c in counts], "shares_from": "gateways' http_requests_total"}


def target(result):
    """The issue's target: least-outstanding p99 ≤ 1.2 × the all-healthy p99, and no timeouts; judged on the
    least-outstanding row with outlier ejection when the run has one (the policy alone cannot meet it)."""
    by = {run["id"]: run for run in result["runs"]}
    limit = 1.2 * by["healthy"]["p99_ms"]
    judged = "outlier-ejection" if "outlier-ejection" in by else "least-outstanding"
    run = by[judged]
    return {"p99_limit_ms": round(limit, 1), "judged": judged, "p99_met": run["p99_ms"] <= limit,
            "timeouts_met": run["timeouts"] == 0}


def failed(run):
    return run["requests"] - run["ok"]


def reading(result):
    """A plain-language reading, one line per configuration, from the numbers."""
    by = {run["id"]: run for run in result["runs"]}
    slow = result["slow_index"]
    base, rr = by["healthy"], by["round-robin"]
    slow_capacity = result["workers"] / result["slow_latency_s"]
    sent = result["rate"] * rr["replica_shares"][slow]
    lines = [
        f"All {result['replicas']} replicas healthy, round-robin at {result['rate']:g} req/s "
        f"({LOAD_SHARE:.0%} of N/L = {result['capacity_rps']:g} req/s): p50 {lab.fmt(base['p50_ms'])} ms, "
        f"p99 {lab.fmt(base['p99_ms'])} ms, {base['timeouts']} timeouts of {base['requests']}.",
        f"Replica {slow + 1}'s upstreams made {SLOW_FACTOR} × slower (its L = {result['slow_latency_s']:g} s, so its "
        f"{result['workers']} workers finish at most {slow_capacity:.1f} req/s): round-robin still sends it "
        f"{rr['replica_shares'][slow]:.0%} of the requests, {sent:.1f} req/s, "
        f"{'so its queue grows for the whole run' if sent > slow_capacity else 'and each of them takes 3 × L'}: p99 {lab.fmt(rr['p99_ms'])} ms, {rr['timeouts']} of {rr['requests']} "
        f"timed out after {result['timeout_s']:g} s ({rr['timeout_share']:.0%}), {failed(rr)} not answered in time — "
        "the proxy's health check sees a live replica, not a slow one.",
    ]
    for policy in ("least-outstanding", "p2c", "nginx-least_conn", "haproxy-leastconn"):
        if policy not in by:
            continue
        run = by[policy]
        if policy == "p2c" and "outlier-ejection" in by:
            lines.append(ejection_line(result, by["outlier-ejection"]))
        lines.append(
            f"{run['label']}: the slow replica got {run['replica_shares'][slow]:.0%} of the requests (it holds each one "
            f"{SLOW_FACTOR} × longer, so it has the most in flight); p50 {lab.fmt(run['p50_ms'])} ms, "
            f"p99 {lab.fmt(run['p99_ms'])} ms, {run['timeouts']} timeouts.")
    goal = result["target"]
    lo = by["least-outstanding"]
    judged = by[goal["judged"]]
    verdict = "met" if goal["p99_met"] and goal["timeouts_met"] else "not met"
    how = " with outlier ejection" if goal["judged"] == "outlier-ejection" else ""
    why = ""
    if not goal["p99_met"] and judged is lo:
        why = (f": every request it still sends to the slow replica takes at least {result['slow_latency_s']:g} s, and "
               f"{lo['replica_shares'][slow]:.0%} of the requests is more than the 1 % that p99 can hide")
    elif goal["judged"] == "outlier-ejection":
        why = (f"; the policy alone: p99 {lab.fmt(lo['p99_ms'])} ms, since every request it still sends to the slow replica "
               f"takes at least {result['slow_latency_s']:g} s")
    lines.append(f"Target least-outstanding p99 ≤ 1.2 × all-healthy p99 = {lab.fmt(goal['p99_limit_ms'])} ms with 0 timeouts: "
                 f"{verdict}{how} (p99 {lab.fmt(judged['p99_ms'])} ms, {judged['timeouts']} timeouts){why}.")
    return lines


def ejection_line(result, run):
    """What outlier ejection did: the slow replica out during the measured run, or not."""
    slow = result["slow_index"]
    ejected = run.get("latency_ejected", [False] * result["replicas"])[slow]
    state = ("ejected the slow replica during the warm-up and kept it out for the measured run"
             if ejected else "had not ejected the slow replica by the end of the measured run")
    return (f"{run['label']} (--outlier-latency {result.get('outlier_factor', OUTLIER_FACTOR)}): the proxy {state}; "
            f"it got {run['replica_shares'][slow]:.0%} of the measured requests; p50 {lab.fmt(run['p50_ms'])} ms, "
            f"p99 {lab.fmt(run['p99_ms'])} ms, {run['timeouts']} timeouts.")


def md_lines(result):
    slow = result["slow_index"]
    lines = ["", f"## One slow replica ({result['replicas']} blocking replicas × {result['workers']} workers, replica {slow + 1} at "
             f"{result['slow_latency_s']:g} s, open loop {result['rate']:g} req/s for {result['duration_s']:g} s after a "
             f"{result.get('warmup_s', 0):g} s warm-up, timeout {result['timeout_s']:g} s)", "",
             "| configuration | requests | p50 | p99 | timeouts | answered in time | share per replica (slow one marked *) |",
             "|---|---|---|---|---|---|---|"]
    for run in result["runs"]:
        shares = " / ".join(f"{share:.0%}" + ("*" if i == slow and run["slow_replica"] else "")
                            for i, share in enumerate(run["replica_shares"]))
        lines.append(f"| {run['label']} | {run['requests']} | {lab.fmt(run['p50_ms'])} ms | {lab.fmt(run['p99_ms'])} ms | "
                     f"{run['timeouts']} | {run['ok_share']:.1%} | {shares} |")
    return lines + [""] + result["reading"]

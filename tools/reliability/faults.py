"""Fault injection on loopback, bounded: replicas killed under load, upstream faults, connection floods.

1. Replicas: GET load through cityscape-proxy to 4 gateway replicas; kill -9 one and restart it,
   SIGTERM another and restart it; client-visible errors are counted per fault (target 0).
2. Upstream faults, gateway in async and blocking mode, against a switchable sun stand-in
   (fake_upstream.py): down, hung, slow (3x latency), garbage body, truncated JSON, 500. Each must
   give its documented status and error code within --upstream-timeout + 1 s, and the gateway must
   answer 200 again as soon as the fault ends.
3. Exhaustion: 10x more simultaneous connections than --max-in-flight (async) or
   --workers + --queue-limit (blocking) allow, three waves: only 200 or clean 503 `overloaded` with
   Retry-After, no crash, RSS flat across waves, full service afterwards.

Exits non-zero on any violation; figures go to stdout and .build/faults.json.
Usage (from the repository root): python3 -m tools.reliability.faults [--bin-dir DIR]
"""
import argparse
import http.client
import json
import os
import signal
import sys
import threading
import time

from tools.cityscape_tools.harness import ROOT, Stack, default_bin_dir, free_port, wait_healthy_url
from tools.cityscape_tools.load import Load, summarize
from tools.reliability.fake_upstream import FakeUpstream

PATHS = [f"/api/sun/{code}/US?date=2026-06-{day:02d}" for code in ("97227", "10001", "94103", "60601") for day in (20, 21, 22)]
# Generous enough that a debug build on a busy 2-core machine never times out a healthy call, so a
# 504 means the fault; the hung-upstream case still has to answer within it + 1 s.
UPSTREAM_TIMEOUT = 2.0
failures = []


def get(port, path, timeout=15.0):
    """One GET on a fresh connection: (status, error code or None, headers, seconds)."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        code = None
        if response.status != 200:
            try:
                code = json.loads(body)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = "unparsable body"
        return response.status, code, dict(response.getheaders()), time.monotonic() - started
    except Exception as error:  # noqa: BLE001
        return type(error).__name__, None, {}, time.monotonic() - started
    finally:
        connection.close()


def replica_faults(stack, location, sun):
    replicas = [stack.start("cityscape-gateway", "--location-url", location.url, "--sun-url", sun.url) for _ in range(4)]
    backends = [arg for replica in replicas for arg in ("--backend", f"127.0.0.1:{replica.port}")]
    admin = free_port()
    proxy = stack.start("cityscape-proxy", *backends, "--admin", f"127.0.0.1:{admin}", "--health-interval", "250ms")
    load = Load(proxy.port, PATHS, clients=8).start()
    time.sleep(2)
    results = {}

    def fault(name, inject, victim):
        start = time.monotonic()
        inject(victim)
        time.sleep(2)
        victim.start()
        wait_healthy_url(victim.url, timeout=10)
        time.sleep(2)
        results[name] = summarize(load.window(start, time.monotonic()))

    def sigterm(victim):
        victim.signal(signal.SIGTERM)
        victim.proc.wait(15)

    baseline_start = time.monotonic() - 2
    fault("kill -9 replica 1, restart", lambda victim: victim.kill(), replicas[0])
    fault("SIGTERM replica 2, restart", sigterm, replicas[1])
    records = load.stop()
    results["whole run"] = summarize([r for r in records if r[0] >= baseline_start])
    for name, figures in results.items():
        print(f"replicas: {name}: {figures}")
        if figures["errors"]:
            failures.append(f"replicas: {name}: {figures['errors']} client-visible errors {figures['errors_by_cause']}")
    proxy.stop()
    for replica in replicas:
        replica.stop()
    return results


EXPECTED = {  # fault → (status, error code); None code: any
    "down": (502, None),
    "hang": (504, "upstream_timeout"),
    "slow": (200, None),
    "garbage": (502, "bad_upstream_response"),
    "truncated": (502, "bad_upstream_response"),
    "error500": (502, "bad_upstream_response"),
}


def upstream_faults(stack, location, fake):
    results = {}
    for mode in ("async", "blocking"):
        gateway = stack.start("cityscape-gateway", "--mode", mode, "--workers", "4", "--location-url", location.url,
                              "--sun-url", fake.url, "--upstream-timeout", f"{int(UPSTREAM_TIMEOUT * 1000)}ms")
        for fault, (status, code) in EXPECTED.items():
            fake.set_mode(fault)
            answers = [get(gateway.port, PATHS[i]) for i in range(3)]
            fake.set_mode("ok")
            recovered_after = None
            recovery_start = time.monotonic()
            while time.monotonic() - recovery_start < 5:
                if get(gateway.port, PATHS[0])[0] == 200:
                    recovered_after = time.monotonic() - recovery_start
                    break
                time.sleep(0.05)
            steady_answers = [get(gateway.port, PATHS[i % len(PATHS)]) for i in range(10)]
            steady = [a[0] for a in steady_answers]
            seen = sorted({f"{a[0]} {a[1]}" if a[1] else str(a[0]) for a in answers})
            slowest = max(a[3] for a in answers)
            figures = {"answers": seen, "slowest_s": round(slowest, 3),
                       "recovered_after_s": None if recovered_after is None else round(recovered_after, 3),
                       "after_recovery": f"{steady.count(200)}/10 ok",
                       "after_recovery_failures": [f"{a[0]} {a[1]}" for a in steady_answers if a[0] != 200]}
            results[f"{mode} {fault}"] = figures
            print(f"upstream faults: {mode} gateway, sun {fault}: {figures}")
            wrong = [a for a in answers if a[0] != status or (code and a[1] != code)]
            if wrong:
                failures.append(f"upstream {mode} {fault}: expected {status} {code or ''}, got {seen}")
            if slowest > UPSTREAM_TIMEOUT + 1:
                failures.append(f"upstream {mode} {fault}: an answer took {slowest:.2f} s")
            if recovered_after is None or steady.count(200) != 10:
                failures.append(f"upstream {mode} {fault}: no full recovery ({figures})")
        gateway.stop()
    return results


def flood(port, connections):
    """`connections` simultaneous GETs, each on its own connection, released together."""
    barrier = threading.Barrier(connections)
    answers = [None] * connections

    def one(i):
        barrier.wait()
        answers[i] = get(port, PATHS[i % len(PATHS)], timeout=20)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return answers


def exhaustion(stack, location, fake):
    results = {}
    fake.set_mode("ok")
    fake.base_latency = 0.3  # requests hold their slot long enough for the flood to hit the limit
    for mode, args, capacity in (("async", ["--max-in-flight", "8"], 8), ("blocking", ["--workers", "2", "--queue-limit", "6"], 8)):
        gateway = stack.start("cityscape-gateway", "--mode", mode, *args, "--location-url", location.url, "--sun-url", fake.url)
        get(gateway.port, PATHS[0])
        rss = [gateway.rss_kib()]
        waves = []
        for _ in range(3):
            answers = flood(gateway.port, 10 * capacity)
            rss.append(gateway.rss_kib())
            statuses = [a[0] for a in answers]
            shed = [a for a in answers if a[0] == 503]
            clean = all(a[1] == "overloaded" and a[2].get("Retry-After") == "1" for a in shed)
            waves.append({"ok": statuses.count(200), "503": len(shed), "other": len(answers) - statuses.count(200) - len(shed),
                          "slowest_s": round(max(a[3] for a in answers), 2), "clean_503": clean})
            if not clean or waves[-1]["other"]:
                failures.append(f"exhaustion {mode}: wave {waves[-1]} answers {sorted({str(s) for s in statuses})}")
        after = [get(gateway.port, PATHS[i % len(PATHS)])[0] for i in range(10)]
        alive = gateway.alive()
        figures = {"connections": 10 * capacity, "capacity": capacity, "waves": waves, "rss_kib": rss,
                   "after": f"{after.count(200)}/10 ok", "alive": alive}
        results[mode] = figures
        print(f"exhaustion: {mode} gateway: {figures}")
        if not alive or after.count(200) != 10:
            failures.append(f"exhaustion {mode}: no recovery ({figures})")
        if rss[-1] - rss[1] > 32 * 1024:
            failures.append(f"exhaustion {mode}: RSS grew {rss[-1] - rss[1]} KiB across waves")
        gateway.stop()
    return results


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=None)
    args = parser.parse_args()
    started = time.monotonic()
    report = {}
    with Stack(args.bin_dir or default_bin_dir()) as stack:
        location = stack.start("cityscape-location")
        sun = stack.start("cityscape-sun")
        ok_body = get_body(sun.port, "/json?lat=45.5496&lng=-122.6743&date=2026-06-21&formatted=0")
        fake = FakeUpstream(ok_body)
        try:
            report["replicas"] = replica_faults(stack, location, sun)
            report["upstream"] = upstream_faults(stack, location, fake)
            report["exhaustion"] = exhaustion(stack, location, fake)
        finally:
            fake.close()
    with open(os.path.join(ROOT, ".build", "faults.json"), "w") as f:
        json.dump({"failures": failures, **report}, f, indent=2)
    for failure in failures:
        print("  FAIL", failure)
    print(f"faults: {'FAILED (' + str(len(failures)) + ')' if failures else 'ok'} in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


def get_body(port, path):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path)
    return connection.getresponse().read()


if __name__ == "__main__":
    sys.exit(main())

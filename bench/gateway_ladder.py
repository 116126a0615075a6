#!/usr/bin/env python3
"""One-run ladder: gateway variants against the same location/sun (--latency 500ms), CPU ms/req from /proc."""
import os, sys, time, resource, json, collections
sys.path.insert(0, "/work/h-perf-gateway/bench")
from harness import cpu_seconds, start, stop, wrk, rss_kib

PATH = "/api/sun/97227/US?date=2026-06-21"
MINE = "/work/h-perf-gateway/.build/release"
BASE = "/work/baseline-bin"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

def threads(pid):
    out = collections.Counter()
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                s = f.read()
            name = s[s.index("(") + 1:s.rindex(")")]
            fields = s.rsplit(")", 1)[1].split()
            out[f"{name}#{tid}"] += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except Exception:
            pass
    return out

def main():
    conns = int(os.environ.get("LADDER_C", "1000"))
    secs = int(os.environ.get("LADDER_S", "15"))
    variants = [v.split(":") for v in sys.argv[1:]]  # name:binary_dir:executor:transport
    os.environ["CITYSCAPE_LOCATION_PATH"] = ""
    loc, loc_url, _ = start(f"{BASE}/cityscape-location", "--latency", "500ms", "--postal-data", "/work/main/Data/postal/postal_codes.tsv.gz")
    sun, sun_url, _ = start(f"{BASE}/cityscape-sun", "--latency", "500ms")
    rows = []
    print("load", open("/proc/loadavg").read().strip(), flush=True)
    for name, bindir, executor, transport in variants:
        os.environ["CITYSCAPE_EXPERIMENT_EXECUTOR"] = executor
        os.environ["CITYSCAPE_EXPERIMENT_TRANSPORT"] = transport
        gw, gw_url, _ = start(f"{bindir}/cityscape-gateway", "--location-url", loc_url, "--sun-url", sun_url)
        wrk(gw_url + PATH, 50, 2, "5s")  # warm-up
        pids = {"gateway": gw.pid, "location": loc.pid, "sun": sun.pid}
        before = {k: cpu_seconds(p) for k, p in pids.items()}
        tb = threads(gw.pid)
        r = wrk(gw_url + PATH, conns, secs, "5s")
        cpu = {k: cpu_seconds(p) - before[k] for k, p in pids.items()}
        ta = threads(gw.pid)
        per = {k: round(1000 * v / max(1, r["requests"]), 3) for k, v in cpu.items()}
        top = sorted(((k, round(ta[k] - tb.get(k, 0), 2)) for k in ta), key=lambda x: -x[1])[:6]
        rss = rss_kib(gw.pid, "VmHWM") // 1024
        stop(gw)
        row = dict(variant=name, rps=r["rps"], ratio=round(r["rps"] / conns, 3), timeouts=r["timeouts"], non2xx=r["non_2xx"],
                   avg=r["avg_ms"], p99=r["p99_ms"], cpu_ms=per, rss_mib=rss, threads=top)
        rows.append(row)
        print(json.dumps(row), flush=True)
        time.sleep(3)
    stop(loc); stop(sun)
    print("load", open("/proc/loadavg").read().strip(), flush=True)

main()

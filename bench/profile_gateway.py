"""Where the CPU of a gateway request goes: the async gateway, location and sun under wrk, sampled with perf.

Location and sun run with --latency 500ms (L = 1 s per gateway request) and the async gateway in front of
them, as in `make bench-gateway`. For each load (`wrk -t2 -cC -dDs --timeout 5s` on
/api/sun/97227/US?date=2026-06-21, file-descriptor limit raised for c=5000) it reports the CPU ms per
request of each process (utime + stime from /proc over the whole run ÷ requests wrk counted), and samples
each process with `perf record -F 499 -g` (software clock) for a window in the middle of the run. From the
samples it prints, per process: the share of samples per thread kind (NIO event loops vs Swift's
cooperative pool), the inclusive share of each cost category (a sample counts for every category one of
its frames matches, so categories overlap and do not add up to 100 %), and the top symbols by self time.

Then it counts, per gateway request, the calls of `malloc`, `swift_allocObject`, `swift_retain` and
`swift_release` (`perf stat` on uprobes, in a run of its own at a low concurrency, since every probe hit
traps into the kernel and would distort the CPU figures): exact counts where samples are a share. The
uprobes must be defined once per machine (as root: `perf probe -x /usr/lib/x86_64-linux-gnu/libc.so.6 malloc`,
`perf probe -x .../libswiftCore.so swift_allocObject`, likewise swift_retain and swift_release); the
missing ones are named and skipped. `--gateway PATH` profiles another gateway binary (a baseline) against
BIN_DIR's location and sun.

Needs `perf` (Debian `linux-perf`) and `wrk`. Usage (from the repository root): python3 -m bench.profile_gateway BIN_DIR [--connections 1000 5000]
[--seconds 20] [--perf-seconds 8] [--top 25] [--gateway PATH] [--count-connections 100] [--count-seconds 8] [--no-count].
Writes results/profile-gateway-<timestamp>.md.
"""
import argparse
import collections
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from tools.cityscape_tools.harness import start, stop
from tools.cityscape_tools.procs import cpu_seconds, rss_kib
from tools.cityscape_tools.results import timestamp
from tools.cityscape_tools.wrk import wrk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PATH = "/api/sun/97227/US?date=2026-06-21"

# (category, regular expression matched against every frame's symbol). Inclusive: overlapping on purpose.
CATEGORIES = [
    ("kernel (syscalls, TCP, scheduler)", r"^\[k\]"),
    ("epoll / socket syscalls from NIO", r"epoll_wait|sys_epoll|__libc_(send|recv|write|read)|\bwritev?\b|\breadv?\b|sendmsg|recvmsg"),
    ("Swift task switching (jobs, continuations, executors)", r"swift_job_run|swift_task_|swift_continuation|ExecutorRef|_dispatch|dispatch_|enqueueGlobal|TaskExecutor|swift::runJobInEstablishedExecutorContext"),
    ("futex / thread wake-ups", r"futex|pthread_cond|__lll_lock|sem_wait|sem_post"),
    ("allocation (malloc/free)", r"^(malloc|free|_int_malloc|_int_free|cfree|calloc|realloc|malloc_consolidate|tcache|swift_slowAlloc|swift_slowDealloc|swift_allocObject|swift_deallocObject)"),
    ("reference counting (retain/release)", r"swift_(retain|release|bridgeObjectRetain|bridgeObjectRelease|unknownObjectRetain|unknownObjectRelease)"),
    ("JSON (Foundation JSONDecoder/Encoder)", r"JSONDecoder|JSONEncoder|JSONScanner|JSONMap|_JSONEncoder|JSONWriter|JSONDecoderImpl"),
    ("the gateway's own JSON (FlatJSONReader, UpstreamDecoding, AnswerJSON)", r"FlatJSONReader|UpstreamDecoding|AnswerJSON"),
    ("AsyncHTTPClient", r"AsyncHTTPClient"),
    ("the event-loop upstream client (EventLoopUpstream)", r"EventLoopUpstream|LoopConnectionPool|UpstreamExchangeHandler|ExchangeState|ExchangeDeadlines|ResponseParser|ResponseHead|UpstreamRequest|UpstreamTarget"),
    ("HTTP/1 codec (NIOHTTP1, llhttp)", r"NIOHTTP1|llhttp|c_nio_llhttp|HTTPDecoder|HTTPEncoder|HTTPResponseEncoder|HTTPRequestEncoder"),
    ("HTTPTypes / header fields", r"HTTPTypes|HTTPFields|HTTPHeaders"),
    ("Hummingbird (router, responder, channel)", r"Hummingbird"),
    ("NIO channel pipeline", r"NIOCore\.ChannelHandlerContext|ChannelPipeline|NIOAsyncChannel|NIOAsyncSequenceProducer|NIOAsyncWriter"),
    ("NIO event loop (tasks, timers, scheduling)", r"SelectableEventLoop|ScheduledTask|scheduleTask|MultiThreadedEventLoopGroup"),
    ("metrics (swift-metrics, Prometheus)", r"Prometheus|CoreMetrics|Metrics\.|RequestMetricsMiddleware"),
    ("logging (swift-log)", r"Logging\.|StreamLogHandler|AccessLogMiddleware"),
    ("simulated latency (--latency)", r"SimulatedLatency|Task.*sleep|swift_task_enqueueGlobalWithDelay"),
    ("request id", r"RequestID"),
    ("Server-Timing", r"ServerTiming"),
    ("strings / formatting", r"String\.|StringGuts|_StringObject|_StringGuts|Substring|DefaultStringInterpolation|_print_unlocked"),
    ("the gateway's composition (SunLookup, SunRoutes)", r"SunLookup|SunRoutes|UpstreamAccess|HTTPClientUpstream"),
]


# Per-request call counts: (uprobe event, label). Probes hit in the gateway process only (`perf stat -p`).
COUNTED = [
    ("probe_libc:malloc", "malloc"),
    ("probe_libswiftCore:swift_allocObject", "swift_allocObject"),
    ("probe_libswiftCore:swift_retain", "swift_retain"),
    ("probe_libswiftCore:swift_release", "swift_release"),
]


def defined_probes():
    listing = subprocess.run(["perf", "probe", "-l"], capture_output=True, text=True)
    return {line.split()[0] for line in listing.stdout.splitlines() if line.strip()}


def count_per_request(gateway_url, pid, connections, seconds):
    """(counts per request by label, missing events, wrk result): `perf stat` on the uprobes during one wrk run."""
    available = defined_probes()
    events = [(event, label) for event, label in COUNTED if event in available]
    missing = [event for event, _ in COUNTED if event not in available]
    if not events:
        return {}, missing, None
    stat = subprocess.Popen(["perf", "stat", "-x,", "-e", ",".join(e for e, _ in events), "-p", str(pid)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(0.3)
    result = wrk(gateway_url + PATH, connections, seconds, "5s")
    stat.send_signal(signal.SIGINT)
    _, output = stat.communicate()
    totals = {}
    for line in output.splitlines():
        fields = line.split(",")
        if len(fields) > 2 and fields[0].strip().isdigit():
            totals[fields[2]] = int(fields[0])
    requests = max(1, result["requests"])
    return {label: totals.get(event, 0) / requests for event, label in events}, missing, result


def perf_record(pid, seconds, output):
    return subprocess.Popen(["perf", "record", "-q", "-F", "499", "-g", "-p", str(pid), "-o", output, "--", "sleep", str(seconds)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def parse_samples(data):
    """(thread name, [frame symbols, leaf first]) per sample from `perf script`."""
    script = subprocess.run(["perf", "script", "-i", data, "-F", "comm,tid,ip,sym,dso"], capture_output=True, text=True)
    samples, comm, frames = [], None, []
    for line in script.stdout.splitlines():
        if not line.strip():
            if comm is not None:
                samples.append((comm, frames))
            comm, frames = None, []
        elif not line.startswith((" ", "\t")):
            comm = line.split()[0]
        else:
            parts = line.strip().split(None, 1)
            rest = parts[1] if len(parts) > 1 else "[unknown]"
            kernel = "[kernel.kallsyms]" in rest
            symbol = re.sub(r"\s*\([^()]*\)\s*$", "", rest).strip()
            symbol = re.sub(r"\+0x[0-9a-f]+$", "", symbol)
            frames.append(("[k] " if kernel else "") + symbol)
    if comm is not None:
        samples.append((comm, frames))
    return samples


def demangle(symbols):
    """Swift-demangled forms of symbols (swift demangle --simplified), keeping the rest as they are."""
    tool = shutil.which("swift-demangle")
    if not tool or not symbols:
        return {s: s for s in symbols}
    result = subprocess.run([tool, "--simplified", "--compact"], input="\n".join(symbols), capture_output=True, text=True)
    lines = result.stdout.splitlines()
    return dict(zip(symbols, lines)) if len(lines) == len(symbols) else {s: s for s in symbols}


def thread_kind(comm):
    if comm.startswith("NIO-SGLTN") or comm.startswith("NIO-ELT"):
        return "NIO event loops"
    if "curl" in comm.lower() or comm.startswith("worker"):
        return "worker threads"
    return "Swift cooperative pool / other"


def summarise(samples, top):
    symbols = sorted({frame.removeprefix("[k] ") for _, frames in samples for frame in frames})
    names = demangle(symbols)
    readable = [(comm, [("[k] " if f.startswith("[k] ") else "") + names.get(f.removeprefix("[k] "), f) for f in frames]) for comm, frames in samples]
    total = len(readable) or 1
    threads = collections.Counter(thread_kind(comm) for comm, _ in readable)
    categories = []
    for name, pattern in CATEGORIES:
        regex = re.compile(pattern)
        hits = sum(1 for _, frames in readable if any(regex.search(f) for f in frames))
        categories.append((name, hits / total))
    leaves = collections.Counter(frames[0] if frames else "[unknown]" for _, frames in readable)
    return {"samples": len(readable), "threads": {k: v / total for k, v in threads.most_common()},
            "categories": categories, "top": [(s, n / total) for s, n in leaves.most_common(top)]}


def raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1 << 20
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(target, 1 << 20), hard))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bin_dir")
    parser.add_argument("--connections", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per load")
    parser.add_argument("--perf-seconds", type=int, default=8, help="perf sampling window, centred in the run")
    parser.add_argument("--top", type=int, default=20, help="symbols listed per process")
    parser.add_argument("--gateway-flag", action="append", default=[], help="extra gateway flag (repeatable)")
    parser.add_argument("--gateway", help="gateway binary to profile instead of BIN_DIR's (e.g. a baseline build)")
    parser.add_argument("--count-connections", type=int, default=100, help="wrk connections of the call-counting run")
    parser.add_argument("--count-seconds", type=int, default=8, help="duration of the call-counting run")
    parser.add_argument("--no-count", action="store_true", help="skip the per-request call counts")
    options = parser.parse_args()
    for tool in ("perf", "wrk"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is needed (apt-get install {'linux-perf' if tool == 'perf' else tool})")
    raise_fd_limit()  # inherited by the services and wrk
    binary = lambda name: os.path.join(options.bin_dir, name)
    gateway_binary = options.gateway or binary("cityscape-gateway")

    with open("/proc/loadavg") as f:
        load_before = f.read().split()[:3]
    location, location_url, _ = start(binary("cityscape-location"), "--latency", "500ms")
    sun, sun_url, _ = start(binary("cityscape-sun"), "--latency", "500ms")
    lines = [f"Gateway profile {timestamp()}, {os.cpu_count()} cores, load average before {' '.join(load_before)}, "
             f"`python3 -m bench.profile_gateway {' '.join(sys.argv[1:])}`", ""]
    workdir = tempfile.mkdtemp(prefix="cityscape-profile-")
    try:
        for connections in options.connections:
            gateway, gateway_url, _ = start(gateway_binary, "--location-url", location_url, "--sun-url", sun_url,
                                            "--mode", "async", *options.gateway_flag)
            processes = (("gateway", gateway.pid), ("location", location.pid), ("sun", sun.pid))
            before = {pid: cpu_seconds(pid) for _, pid in processes}
            recorders = {}

            def sample():
                time.sleep(max(0, (options.seconds - options.perf_seconds) / 2))
                for role, pid in processes:
                    recorders[role] = perf_record(pid, options.perf_seconds, os.path.join(workdir, f"{role}-{connections}.data"))

            sampler = threading.Thread(target=sample)
            sampler.start()
            result = wrk(gateway_url + PATH, connections, options.seconds, "5s")
            sampler.join()
            for role, recorder in recorders.items():
                _, errors = recorder.communicate()
                if recorder.returncode != 0:
                    print(f"perf record of {role} failed ({recorder.returncode}): {errors.strip()}", file=sys.stderr)
            cpu = {role: cpu_seconds(pid) - before[pid] for role, pid in processes}
            requests = max(1, result["requests"])
            lines += [f"## c={connections}: wrk -t2 -c{connections} -d{options.seconds}s --timeout 5s",
                      "",
                      f"{result['requests']} requests, {result['rps']:.1f} req/s = {result['rps'] / connections:.3f} × c/L, "
                      f"avg {result['avg_ms']} ms, p99 {result['p99_ms']} ms, timeouts {result['timeouts']}, "
                      f"socket errors {result['socket_errors']}, non-2xx {result['non_2xx']}, "
                      f"gateway RSS {rss_kib(gateway.pid, 'VmHWM') / 1024:.0f} MiB peak",
                      "",
                      "CPU ms per request: " + ", ".join(f"{role} {cpu[role] * 1000 / requests:.3f}" for role, _ in processes),
                      ""]
            stop(gateway)
            for role, _ in processes:
                summary = summarise(parse_samples(os.path.join(workdir, f"{role}-{connections}.data")), options.top)
                lines += [f"### {role}, c={connections}: {summary['samples']} samples", "",
                          "threads: " + ", ".join(f"{kind} {share:.0%}" for kind, share in summary["threads"].items()), "",
                          "| category (inclusive) | share |", "|---|---|"]
                lines += [f"| {name} | {share:.1%} |" for name, share in summary["categories"] if share >= 0.005]
                lines += ["", "| top symbols (self) | share |", "|---|---|"]
                lines += [f"| `{symbol[:140]}` | {share:.1%} |" for symbol, share in summary["top"]]
                lines.append("")
        if not options.no_count:
            gateway, gateway_url, _ = start(gateway_binary, "--location-url", location_url, "--sun-url", sun_url,
                                            "--mode", "async", *options.gateway_flag)
            wrk(gateway_url + PATH, options.count_connections, 2, "5s")  # connections opened before counting
            counts, missing, result = count_per_request(gateway_url, gateway.pid, options.count_connections, options.count_seconds)
            stop(gateway)
            lines += [f"## Gateway calls per request: wrk -t2 -c{options.count_connections} -d{options.count_seconds}s, perf stat on uprobes", ""]
            if counts:
                lines += [f"{result['requests']} requests; per request: " + ", ".join(f"{label} {n:.1f}" for label, n in counts.items()), ""]
            if missing:
                lines += [f"not counted (uprobe not defined, see the docstring): {', '.join(missing)}", ""]
    finally:
        stop(sun)
        stop(location)
        shutil.rmtree(workdir, ignore_errors=True)
    with open("/proc/loadavg") as f:
        lines.append(f"load average after: {' '.join(f.read().split()[:3])}")
    os.makedirs(os.path.join(ROOT, "results"), exist_ok=True)
    path = os.path.join(ROOT, "results", f"profile-gateway-{timestamp()}.md")
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()

"""Shared benchmark harness: start services on free loopback ports, run wrk, parse its output.

Loopback only, every run bounded by wrk's -d; processes are stopped by PID.
"""
import atexit
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

# Every process started through start() until stop(): stopped in reverse order at exit, on Ctrl-C
# and on SIGTERM, so an error or an interrupt never leaves a service behind.
_running = []


def stop_all():
    while _running:
        stop(_running[-1])


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(stop_all)
if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def spawn(command, env=None, log=None):
    """Starts any process (output to `log` or /dev/null), stopped by PID with the others at exit."""
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, **env} if env else None)
    _running.append(process)
    return process


def wait_healthy(process, url, seconds=30):
    """Polls url until it answers 200; stops the process and exits if it dies or never does."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except Exception:
            time.sleep(0.02)
    stop(process)
    sys.exit(f"{process.args[0]} did not answer {url} (exit status {process.poll()})")


def free_port():
    """A loopback port that was free a moment ago (the kernel picks it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def children(pid):
    """PIDs of the direct children of a process (e.g. nginx's workers), from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                        found.append(int(entry))
            except (FileNotFoundError, ProcessLookupError, IndexError):
                pass
    return found


def start(binary, *args):
    """Starts a service on port 0 and returns (process, base_url, seconds_to_healthy)."""
    started = time.monotonic()
    process = spawn([binary, "--port", "0", "--log-level", "warning", *args])
    # At warning level the `listening on` line is not printed, so find the port from /proc instead.
    deadline = started + 30
    base = None
    while time.monotonic() < deadline and base is None:
        port = listening_port(process.pid)
        if port:
            base = f"http://127.0.0.1:{port}"
        else:
            time.sleep(0.005)
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return process, base, time.monotonic() - started
        except Exception:
            time.sleep(0.005)
    stop(process)
    sys.exit(f"{binary} did not become healthy")


def listening_port(pid):
    """The TCP port a process listens on, from /proc/net/tcp and its socket inodes."""
    try:
        inodes = set()
        for fd in os.listdir(f"/proc/{pid}/fd"):
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
        with open("/proc/net/tcp") as table:
            for line in table.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and fields[9] in inodes:  # 0A = LISTEN
                    return int(fields[1].split(":")[1], 16)
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    return None


def parse_wrk(output):
    """req/s, latency (ms) and error counts from `wrk --latency` output.

    wrk counts a response that arrives after --timeout both as a request and as a timeout, and leaves
    it out of the latency figures, so `ok` = requests − timeouts − non-2xx is what the client really
    got in time; avg/p99 are None when no response came in time.
    """
    def duration_ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s|m|h)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000, "h": 3600000}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    average = duration_ms(re.search(r"Latency\s+(\S+)", output).group(1))
    requests, seconds = re.search(r"(\d+) requests in ([\d.]+\w+)", output).groups()
    requests, seconds = int(requests), duration_ms(seconds) / 1000
    p99_match = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    p99 = duration_ms(p99_match.group(1)) if p99_match else None
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    connect, read, write, timeouts = (int(n) for n in errors.groups()) if errors else (0, 0, 0, 0)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    non2xx = int(non2xx.group(1)) if non2xx else 0
    ok = max(0, requests - timeouts - non2xx)
    in_time = ok > 0 or requests > timeouts
    return {
        "requests": requests, "seconds": seconds, "rps": rps,
        "ok": ok, "ok_rps": round(ok / seconds, 2) if seconds else 0.0,
        "avg_ms": average if in_time else None, "p99_ms": p99 if in_time else None,
        "timeouts": timeouts, "connect_errors": connect, "read_errors": read, "write_errors": write,
        "socket_errors": connect + read + write + timeouts, "non_2xx": non2xx,
    }


def wrk(url, connections, duration, timeout=None, progress=None, raw=None):
    """One wrk run (2 threads, --latency); `timeout` is wrk's per-request timeout, e.g. "2s".

    `progress(seconds_left)` is called about once a second while wrk runs; `raw`, a list, gets wrk's output.
    """
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *(["--timeout", timeout] if timeout else []), url]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        while True:
            try:
                output, errors = process.communicate(timeout=1)
                break
            except subprocess.TimeoutExpired:
                if time.monotonic() - started > duration + 60:  # wrk never takes this long: give up
                    process.kill()
                    raise RuntimeError(f"wrk did not finish: {' '.join(command)}")
                if progress:
                    progress(max(0, round(duration - (time.monotonic() - started))))
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if process.returncode != 0:
        raise RuntimeError(f"wrk failed ({process.returncode}): {errors.strip()}")
    if raw is not None:
        raw.append(output)
    return parse_wrk(output)


def countdown(prefix):
    """A progress callback for wrk(): rewrites one terminal line, or prints every 5 s when not a tty."""
    tty = sys.stdout.isatty()

    def tick(seconds_left):
        if tty:
            print(f"\r{prefix}{seconds_left:3d} s left ", end="", flush=True)
        elif seconds_left % 5 == 0:
            print(f"{prefix}{seconds_left} s left", flush=True)
    tick.done = lambda: print("\r" + " " * (len(prefix) + 12) + "\r", end="", flush=True) if tty else None
    return tick


def ratio(value, reference, digits=2):
    """value / reference rounded, or None when there is no reference."""
    if value is None or not reference:
        return None
    return round(value / reference, digits)


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def peak_rss_mib(pids):
    """Sum of the peak RSS (VmHWM) of the processes, MiB."""
    return round(sum(rss_kib(pid, "VmHWM") for pid in pids) / 1024, 1)


def write_results(base, data, lines):
    """`base`.json (the data) and `base`.md (the report lines), the pair every benchmark leaves in results/."""
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(base + ".json", "w") as out:
        json.dump(data, out, indent=2)
    with open(base + ".md", "w") as out:
        out.write("\n".join(lines) + "\n")


def timestamp():
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def cpu_seconds(pid):
    """utime + stime of a process so far, from /proc (the figure that survives a noisy machine)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process):
    """SIGTERM (services drain in-flight requests), SIGKILL after 15 s; by PID, never by name."""
    if process in _running:
        _running.remove(process)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

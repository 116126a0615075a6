"""Shared benchmark harness: start services on free loopback ports, run wrk, parse its output.

Loopback only, every run bounded by wrk's -d; processes are stopped by PID.
"""
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def start(binary, *args):
    """Starts a service on port 0 and returns (process, base_url, seconds_to_healthy)."""
    started = time.monotonic()
    process = subprocess.Popen([binary, "--port", "0", "--log-level", "warning", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
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
    process.kill()
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
    """req/s, p99 (ms) and error counts from `wrk --latency` output."""
    def duration_ms(text):
        value, unit = re.match(r"([\d.]+)(us|ms|s|m)", text).groups()
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    average = duration_ms(re.search(r"Latency\s+(\S+)", output).group(1))
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    p99 = duration_ms(re.search(r"99%\s+(\S+)", output).group(1))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests": requests, "rps": rps, "avg_ms": average, "p99_ms": p99,
        "timeouts": int(errors.group(4)) if errors else 0,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
    }


def wrk(url, connections, duration, timeout=None):
    """One wrk run (2 threads, --latency); `timeout` is wrk's per-request timeout, e.g. "2s"."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", *(["--timeout", timeout] if timeout else []), url]
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, check=True).stdout)


def cpu_seconds(pid):
    """utime + stime of a process so far, from /proc (the figure that survives a noisy machine)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()

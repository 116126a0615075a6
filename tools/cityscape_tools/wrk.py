"""wrk, the closed-loop load generator of the benchmarks: run it (2 threads, --latency) and parse what it prints.

Loopback only; every run is bounded by wrk's -d and given up if wrk overruns it by a minute.
"""
import re
import subprocess
import sys
import time


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

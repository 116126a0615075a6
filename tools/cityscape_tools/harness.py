"""Processes on 127.0.0.1 for every tool: free ports, start our binaries and peers, wait until they answer, stop by PID.

Two ways to start a binary, for two kinds of tool:
- `start(binary, *args)` (benchmarks): `--port 0 --log-level warning`, the port read from /proc, output
  discarded; every process started through `start`/`spawn` is stopped at exit, on Ctrl-C and on SIGTERM.
- `Stack` / `Service` (fault injection, fuzzing, soak): output kept in a log file, the port read from the
  `listening on http://HOST:PORT` line (as Tests/CityscapeTestSupport/ServiceProcess.swift does), and a
  restart that keeps the port so a proxy in front finds the replica again.
Both stop with SIGTERM (services drain in-flight requests), then SIGKILL after a grace period: by the
PID we started, never by name.
"""
import atexit
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from tools.cityscape_tools import procs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTENING = re.compile(rb"listening on http://([^\s]+):(\d+)")


# MARK: ports and readiness

def free_port():
    """A loopback port that was free a moment ago (the kernel picks it)."""
    return free_ports(1)[0]


def free_ports(count):
    """`count` distinct loopback ports that were free a moment ago (all held open while the kernel picks)."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def get(url, timeout=5):
    """GET url: (status, body text), an error status included; a connection failure raises."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def answers_200(url, timeout=1):
    """True when GET url answers 200 within `timeout` seconds."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except Exception:
        return False


def wait_ok(url, seconds=30, process=None, interval=0.02):
    """Polls url until it answers 200 (True), `seconds` pass or `process` exits (False)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (process is None or process.poll() is None):
        if answers_200(url):
            return True
        time.sleep(interval)
    return False


def terminate(process, grace=15.0):
    """SIGTERM, then SIGKILL after `grace` seconds; returns (exit status, whether it had to be killed)."""
    if process.poll() is not None:
        return process.returncode, False
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(timeout=grace), False
    except subprocess.TimeoutExpired:
        process.kill()
        return process.wait(), True


# MARK: benchmark processes (stopped at exit)

# Every process started through spawn() until stop(): stopped in reverse order at exit, on Ctrl-C and on
# SIGTERM, so an error or an interrupt never leaves a service behind.
_running = []


def stop_all():
    while _running:
        stop(_running[-1])


def _on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


atexit.register(stop_all)
if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
    signal.signal(signal.SIGTERM, _on_sigterm)


def spawn(command, env=None, log=None):
    """Starts any process (output to `log` or /dev/null), stopped by PID with the others at exit."""
    output = open(log, "ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               env={**os.environ, **env} if env else None)
    _running.append(process)
    return process


def wait_healthy(process, url, seconds=30):
    """Polls url until it answers 200; stops the process and exits if it dies or never does."""
    if wait_ok(url, seconds, process):
        return
    stop(process)
    sys.exit(f"{process.args[0]} did not answer {url} (exit status {process.poll()})")


def run_main(main):
    """Runs a benchmark's main(); Ctrl-C ends it with one line instead of a traceback (stop_all runs at exit)."""
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("\ninterrupted: every process started was stopped")


def start(binary, *args):
    """Starts a service on port 0 and returns (process, base_url, seconds_to_healthy)."""
    started = time.monotonic()
    process = spawn([binary, "--port", "0", "--log-level", "warning", *args])
    # At warning level the `listening on` line is not printed, so find the port from /proc instead.
    deadline = started + 30
    base = None
    while time.monotonic() < deadline and base is None:
        port = procs.listening_port(process.pid)
        if port:
            base = f"http://127.0.0.1:{port}"
        else:
            time.sleep(0.005)
    while base and time.monotonic() < deadline:
        if answers_200(base + "/healthz"):
            return process, base, time.monotonic() - started
        time.sleep(0.005)
    stop(process)
    sys.exit(f"{binary} did not become healthy")


def stop(process, grace=15.0):
    """Stops a process started by spawn() or start() (SIGTERM, SIGKILL after `grace`)."""
    if process in _running:
        _running.remove(process)
    terminate(process, grace)


# MARK: services with logs (fault injection, fuzzing, soak)

class Service:
    """One binary running on 127.0.0.1; its output goes to a temporary log file."""

    def __init__(self, bin_dir, binary, args=(), port=0, log_dir=None, timeout=60.0):
        self.binary = binary
        self.bin_dir = bin_dir
        self.args = list(args)
        self.log = tempfile.NamedTemporaryFile(prefix=f"{binary}-", suffix=".log", dir=log_dir, delete=False)
        self.port = port
        self.proc = None
        self.start(timeout)

    def start(self, timeout=60.0):
        """(Re)starts the binary; a restart reuses the port it had so a proxy finds it again."""
        argv = [os.path.join(self.bin_dir, self.binary), "--port", str(self.port)] + self.args
        offset = os.path.getsize(self.log.name)
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITYSCAPE_")}
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log.name, "rb") as f:
                f.seek(offset)
                match = LISTENING.search(f.read())
            if match:
                self.port = int(match.group(2))
                return self
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.binary} exited with {self.proc.returncode}:\n{self.output()[-2000:]}")
            time.sleep(0.02)
        self.kill()
        raise RuntimeError(f"{self.binary} did not print 'listening on' within {timeout}s")

    @property
    def pid(self):
        return self.proc.pid

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def output(self):
        with open(self.log.name, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def signal(self, sig):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def kill(self):
        """SIGKILL by PID and reap."""
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, grace=10.0):
        """SIGTERM, wait up to `grace`, then SIGKILL; returns the exit status."""
        if self.proc is None:
            return None
        return terminate(self.proc, grace)[0]

    def rss_kib(self):
        """Resident set size in KiB; None when the process is gone."""
        try:
            return procs.rss_kib(self.proc.pid)
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            return None

    def fds(self):
        return procs.open_fds(self.proc.pid) if self.proc is not None else None


class Stack:
    """Owns every Service it starts and stops them all, in reverse order, on exit."""

    def __init__(self, bin_dir, log_dir=None):
        self.bin_dir = bin_dir
        self.log_dir = log_dir or os.path.join(ROOT, ".build", "reliability-logs")
        os.makedirs(self.log_dir, exist_ok=True)
        self.services = []

    def start(self, binary, *args, **kwargs):
        service = Service(self.bin_dir, binary, args, log_dir=self.log_dir, **kwargs)
        self.services.append(service)
        return service

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for service in reversed(self.services):
            service.stop(grace=5.0)
        return False


def wait_healthy_url(url, timeout=30.0):
    """Polls GET url/healthz until it answers 200 (True) or `timeout` seconds pass (False)."""
    return wait_ok(url + "/healthz", timeout, interval=0.05)


def default_bin_dir():
    """The debug build products, as `make build` leaves them."""
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or os.path.join(ROOT, ".build", "debug")

"""Live Cityscape processes for the reliability tools: start on a free port, learn it, stop by PID.

Every process is started with `--port 0` and the tool reads the real port from the
`listening on http://HOST:PORT` log line, like Tests/CityscapeTestSupport/ServiceProcess.swift.
Processes are only ever stopped by the PID we started (never by name), and `Stack` stops
everything it started even when the tool fails half-way.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LISTENING = re.compile(rb"listening on http://([^\s]+):(\d+)")


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
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def rss_kib(self):
        """Resident set size from /proc, in KiB; None when the process is gone."""
        try:
            with open(f"/proc/{self.proc.pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            return None
        return None

    def fds(self):
        try:
            return len(os.listdir(f"/proc/{self.proc.pid}/fd"))
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            return None


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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url, timeout=30.0):
    """Polls GET /healthz until it answers 200."""
    import http.client
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=1)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def default_bin_dir():
    """The debug build products, as `make build` leaves them."""
    out = subprocess.run(["swift", "build", "--show-bin-path"], cwd=ROOT, capture_output=True, text=True)
    return out.stdout.strip() or os.path.join(ROOT, ".build", "debug")

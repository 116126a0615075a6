"""Runs cityscape-openload (bench/openload) and samples a service's in-flight gauge while it runs.

The generator writes one JSON per run: a summary with HDR percentiles and one row per request
(`record_columns` names the fields). The sampler polls a Prometheus /metrics endpoint, so Little's law
can be checked against the services' own count of requests in flight.
"""
import functools
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request


@functools.cache
def realtime_prefix():
    """`chrt -f 10` when this process may use it (root, or CAP_SYS_NICE), else nothing.

    On a shared machine a sleeping generator thread can wait milliseconds for a core when it wakes;
    at a real-time priority it runs at once, so the schedule is kept (see the README's accuracy figures).
    The generator sleeps between sends, so it takes no more CPU than it would otherwise.
    """
    if shutil.which("chrt") and subprocess.run(["chrt", "-f", "10", "true"], capture_output=True).returncode == 0:
        return ["chrt", "-f", "10"]
    return []


def run(binary, url, *, rate=None, connections=None, duration_s, timeout_s=2.0, max_connections=None, warm=0):
    """One generator run; returns its JSON report with `records` turned into dicts."""
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as out:
        path = out.name
    command = realtime_prefix() + [binary, url, "--duration", f"{duration_s:g}s", "--timeout", f"{timeout_s:g}s", "--out", path]
    command += ["--rate", f"{rate:g}", "--warm", str(warm)] if rate is not None else ["--connections", str(connections)]
    if max_connections:
        command += ["--max-connections", str(max_connections)]
    try:
        finished = subprocess.run(command, capture_output=True, text=True, timeout=duration_s + timeout_s + 60)
        if finished.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({finished.returncode}): {finished.stderr.strip()}")
        with open(path) as f:
            report = json.load(f)
    finally:
        os.unlink(path)
    report["realtime_priority"] = bool(realtime_prefix())
    columns = report.pop("record_columns")
    report["records"] = [dict(zip(columns, row)) for row in report["records"]]
    return report


def metric_value(text, name):
    """The value of an unlabelled Prometheus series `name` in /metrics text, or None."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None


def read_metric(url, name):
    with urllib.request.urlopen(url, timeout=1) as response:
        return metric_value(response.read().decode(), name)


class InFlightSampler:
    """Polls `name` at each of `urls` (summed) every `interval` s in a thread; integrates it over time.

    `integral()` is ∫ in-flight dt in request-seconds: by Little's law it equals the sum of the time
    every request spent inside, whatever the sampling window, as long as it starts and ends empty.
    """

    def __init__(self, urls, name, interval=0.05):
        self.urls, self.name, self.interval = urls, name, interval
        self.samples = []  # (monotonic seconds, value)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _poll(self):
        while not self._stop.is_set():
            try:
                value = sum(read_metric(url, self.name) or 0 for url in self.urls)
                self.samples.append((time.monotonic(), value))
            except OSError:
                pass
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def stop(self):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def wait_empty(self, seconds):
        """Waits until the gauge reads 0 (requests abandoned by the client drain out), at most `seconds`."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.samples and self.samples[-1][1] == 0 and self.samples[-1][0] > time.monotonic() - 2 * self.interval:
                return True
            time.sleep(self.interval)
        return False

    def integral(self):
        """Request-seconds inside, each sample held until the next one."""
        return sum(value * (t1 - t0) for (t0, value), (t1, _) in zip(self.samples, self.samples[1:]))

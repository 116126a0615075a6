"""Steady closed-loop HTTP load from threads, each on its own keep-alive connection.

Every request is recorded as (start time, latency s, outcome, path): outcome is the status code, or
the name of the exception when no response arrived. A client reconnects after a failure, as real
clients do; it never retries a request, so every failure the proxy lets through is counted.
"""
import http.client
import threading
import time

from tools.cityscape_tools.results import nearest_rank


class Load:
    def __init__(self, port, paths, clients=8, timeout=10.0):
        self.port = port
        self.paths = paths
        self.clients = clients
        self.timeout = timeout
        self.records = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(clients)]

    def start(self):
        for thread in self.threads:
            thread.start()
        return self

    def stop(self):
        self.stopping.set()
        for thread in self.threads:
            thread.join(self.timeout + 5)
        return self.records

    def _run(self, index):
        connection = None
        n = index
        while not self.stopping.is_set():
            path = self.paths[n % len(self.paths)]
            n += self.clients
            started = time.monotonic()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                outcome = response.status
                if response.getheader("connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except Exception as error:  # noqa: BLE001 - every failure is a data point
                outcome = type(error).__name__
                if connection is not None:
                    connection.close()
                connection = None
            with self.lock:
                self.records.append((started, time.monotonic() - started, outcome, path))

    def window(self, start, end):
        """Records that started in [start, end)."""
        with self.lock:
            return [r for r in self.records if start <= r[0] < end]


def summarize(records, expected=None):
    """Counts, errors by cause and latency percentiles; an error is an answer other than `expected[path]` (default 200)."""
    expected = expected or {}
    latencies = sorted(r[1] for r in records)
    errors = {}
    for _, _, outcome, path in records:
        if outcome != expected.get(path, 200):
            errors[str(outcome)] = errors.get(str(outcome), 0) + 1

    def percentile(p):
        return round(nearest_rank(latencies, p) * 1000, 1) if latencies else None

    return {"requests": len(records), "errors": sum(errors.values()), "errors_by_cause": errors,
            "p50_ms": percentile(0.50), "p99_ms": percentile(0.99), "max_ms": percentile(1.0)}

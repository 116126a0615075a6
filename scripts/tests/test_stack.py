"""Live: scripts/run-stack.sh (via stack-ctl.sh) on shifted free ports, next to a user's `make run` on 8000..8081.

Starts the whole stack, gets answers through the async gateway and through the proxy, refuses a second
start (same PID file, and another PID file on the same ports), stops everything and checks by PID that
no process is left. Binaries from $CITYSCAPE_BIN_DIR (default .build/debug, which `make test` builds).
"""
import json
import os
import random
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.request

from tools.cityscape_tools.stack import port_of, read_stack

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("CITYSCAPE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
CTL = os.path.join(ROOT, "scripts", "stack-ctl.sh")


def stack_ports():
    """Every port of deploy/stack.conf: each process's own and those named in its flags (backends, admin)."""
    return [port for entry in read_stack() for port in
            [entry.port] + [port_of(value) for _, value in entry.flags if value.startswith("127.0.0.1:")]]


def free(port):
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie has exited; only its parent has not reaped it yet.
    with open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0] != "Z"


def read(path):
    with open(path) as f:
        return f.read()


class Stack(unittest.TestCase):
    def setUp(self):
        for name in ("cityscape-location", "cityscape-sun", "cityscape-gateway", "cityscape-proxy"):
            self.assertTrue(os.access(os.path.join(BIN_DIR, name), os.X_OK), f"{BIN_DIR}/{name} missing: make build")
        ports = stack_ports()
        for _ in range(50):
            offset = random.randrange(20000, 50000, 100)
            if all(free(port + offset) for port in ports):
                break
        self.offset = offset
        self.run_dir = tempfile.mkdtemp(prefix="cityscape-stack-test-")
        self.env = {**os.environ, "STACK_PORT_OFFSET": str(offset), "STACK_RUN_DIR": self.run_dir}
        self.addCleanup(self.cleanup)

    def ctl(self, *args, env=None):
        return subprocess.run([CTL, *args], env=env or self.env, capture_output=True, text=True, timeout=120)

    def pids(self):
        with open(os.path.join(self.run_dir, "stack.pids")) as f:
            return {line.split()[0]: int(line.split()[1]) for line in f if len(line.split()) >= 2}

    def cleanup(self):
        self.ctl("stop")
        for name, pid in getattr(self, "started", {}).items():  # never leave a process behind
            if alive(pid):
                os.kill(pid, 9)

    def get(self, port, path):
        with urllib.request.urlopen(f"http://127.0.0.1:{port + self.offset}{path}", timeout=10) as response:
            return response.status, json.load(response), response.headers

    def test_start_answer_refuse_stop(self):
        started = self.ctl("start", BIN_DIR)
        self.assertEqual(started.returncode, 0, started.stdout + started.stderr)
        self.started = self.pids()
        self.assertEqual(set(self.started), {"supervisor", "location", "sun", "gateway", "gateway-b1", "gateway-b2", "proxy"})
        self.assertIn(f"http://127.0.0.1:{8000 + self.offset}/api/sun/97227/US", started.stdout)
        self.assertIn(f"http://127.0.0.1:{8080 + self.offset}/api/sun/97227/US", started.stdout)
        self.assertIn(f"http://127.0.0.1:{8081 + self.offset}/status", started.stdout)

        for port in (8000, 8080):  # the async gateway and the proxy in front of the blocking replicas
            status, body, headers = self.get(port, "/api/sun/97227/US?date=2026-06-21")
            self.assertEqual(status, 200)
            self.assertEqual((body["postal_code"], body["place"], body["date"]), ("97227", "Portland", "2026-06-21"))
            self.assertIn("sun;dur=", headers["Server-Timing"])
        status, admin, _ = self.get(8081, "/status")
        self.assertEqual(admin["healthy"], 2)
        self.assertEqual(sorted(b["address"] for b in admin["backends"]),
                         [f"127.0.0.1:{8010 + self.offset}", f"127.0.0.1:{8011 + self.offset}"])
        status_out = self.ctl("status")
        self.assertEqual(status_out.returncode, 0)
        self.assertEqual(status_out.stdout.count(" alive"), 6, status_out.stdout)

        again = self.ctl("start", BIN_DIR)  # same PID file: refused before anything starts
        self.assertEqual(again.returncode, 1)
        self.assertIn("already running", again.stderr)
        other_dir = tempfile.mkdtemp(prefix="cityscape-stack-test-")
        second = subprocess.run([os.path.join(ROOT, "scripts", "run-stack.sh"), BIN_DIR],
                                env={**self.env, "STACK_RUN_DIR": other_dir}, capture_output=True, text=True, timeout=60)
        self.assertEqual(second.returncode, 1)  # another PID file, same ports: refused on the first port
        self.assertIn(f"port {8001 + self.offset} (location) is already in use", second.stderr)
        self.assertEqual(self.pids(), self.started)  # the running stack is untouched
        self.assertTrue(all(alive(pid) for pid in self.started.values()))

        stopped = self.ctl("stop")
        self.assertEqual(stopped.returncode, 0, stopped.stderr)
        time.sleep(0.2)
        left = {name: pid for name, pid in self.started.items() if alive(pid)}
        self.assertEqual(left, {}, "processes left after stop")
        self.assertFalse(os.path.exists(os.path.join(self.run_dir, "stack.pids")))
        log = read(os.path.join(self.run_dir, "stack.log"))
        self.assertIn("stopping, in reverse order: proxy gateway-b2 gateway-b1 gateway sun location", log)
        self.assertNotIn("GET /healthz 200", log)  # the proxy's health checks do not flood the log
        self.assertIn("[gateway-b1]", log)
        self.assertEqual(self.ctl("status").returncode, 3)

    def test_ctrl_c_in_the_foreground_stops_everything(self):
        log_path = os.path.join(self.run_dir, "foreground.log")
        with open(log_path, "w") as log:
            # A terminal's Ctrl-C sends SIGINT to the whole foreground process group.
            process = subprocess.Popen([os.path.join(ROOT, "scripts", "run-stack.sh"), BIN_DIR], env=self.env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        self.addCleanup(lambda: process.poll() is None and os.killpg(process.pid, signal.SIGTERM))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and process.poll() is None:
            if os.path.exists(os.path.join(self.run_dir, "stack.pids")) and "ready" in read(os.path.join(self.run_dir, "stack.pids")):
                break
            time.sleep(0.1)
        self.started = self.pids()
        self.assertEqual(len(self.started), 7, read(log_path))
        status, _, _ = self.get(8080, "/api/sun/97227/US")
        self.assertEqual(status, 200)
        os.killpg(process.pid, signal.SIGINT)
        self.assertEqual(process.wait(timeout=60), 0)
        time.sleep(0.2)
        self.assertEqual({name: pid for name, pid in self.started.items() if alive(pid)}, {})
        log = read(log_path)
        self.assertIn("Cityscape is running", log)
        self.assertIn("stopping, in reverse order: proxy gateway-b2", log)
        self.assertIn("\nstopped\n", log)  # (a service's last log line may still come after it)


if __name__ == "__main__":
    unittest.main()

"""Live: the harness and /proc readers against real processes on 127.0.0.1 (a Python HTTP server, and our sun binary).

Binaries from $CITYSCAPE_BIN_DIR (default .build/debug, which `make test` builds).
"""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

from tools.cityscape_tools import harness, procs

ROOT = harness.ROOT
BIN_DIR = os.environ.get("CITYSCAPE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
SUN = os.path.join(BIN_DIR, "cityscape-sun")


class Ports(unittest.TestCase):
    def test_free_ports_are_distinct_and_bindable(self):
        ports = harness.free_ports(5)
        self.assertEqual(len(set(ports)), 5)
        for port in ports:
            with socket.socket() as probe:
                probe.bind(("127.0.0.1", port))


class SpawnedProcess(unittest.TestCase):
    def test_an_http_server_is_found_sampled_and_stopped(self):
        port = harness.free_port()
        process = harness.spawn([sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1", "--directory", ROOT])
        try:
            self.assertTrue(harness.wait_ok(f"http://127.0.0.1:{port}/", seconds=20, process=process))
            self.assertEqual(procs.listening_port(process.pid), port)
            status, body = harness.get(f"http://127.0.0.1:{port}/Makefile")
            self.assertEqual(status, 200)
            self.assertIn("make test", body)
            self.assertEqual(harness.get(f"http://127.0.0.1:{port}/no-such-file")[0], 404)  # an error status, not an exception
            self.assertGreater(procs.rss_kib(process.pid), 1000)
            self.assertGreaterEqual(procs.rss_kib(process.pid, "VmHWM"), procs.rss_kib(process.pid))
            self.assertGreaterEqual(procs.threads([process.pid]), 1)
            self.assertGreaterEqual(procs.open_fds(process.pid), 4)  # stdio and the listening socket
            self.assertGreater(procs.cpu_seconds(process.pid), 0)
            self.assertIn(process.pid, procs.children(os.getpid()))
        finally:
            harness.stop(process)
        self.assertIsNotNone(process.poll())
        self.assertNotIn(process, harness._running)
        self.assertIsNone(procs.open_fds(process.pid))
        self.assertFalse(harness.answers_200(f"http://127.0.0.1:{port}/"))

    def test_waiting_gives_up_as_soon_as_the_process_exits(self):
        process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
        began = time.monotonic()
        self.assertFalse(harness.wait_ok(f"http://127.0.0.1:{harness.free_port()}/", seconds=30, process=process))
        self.assertLess(time.monotonic() - began, 10)
        self.assertEqual(process.returncode, 3)

    def test_terminate_kills_what_ignores_sigterm_after_the_grace_period(self):
        script = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
        process = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
        self.assertEqual(process.stdout.readline().strip(), "ready")
        began = time.monotonic()
        code, killed = harness.terminate(process, grace=0.5)
        process.stdout.close()
        self.assertTrue(killed)
        self.assertEqual(code, -signal.SIGKILL)
        self.assertLess(time.monotonic() - began, 10)

    def test_terminate_lets_a_process_drain_on_sigterm(self):
        process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        self.assertEqual(harness.terminate(process, grace=10), (-signal.SIGTERM, False))
        self.assertEqual(harness.terminate(process), (-signal.SIGTERM, False))  # already gone: nothing sent


@unittest.skipUnless(os.access(SUN, os.X_OK), f"{SUN} not built (swift build)")
class OurBinaries(unittest.TestCase):
    def test_start_finds_the_port_from_proc_and_answers_healthz(self):
        process, base, seconds = harness.start(SUN)
        try:
            self.assertTrue(base.startswith("http://127.0.0.1:"))
            self.assertEqual(int(base.rsplit(":", 1)[1]), procs.listening_port(process.pid))
            self.assertTrue(harness.answers_200(base + "/healthz"))
            self.assertGreater(seconds, 0)
        finally:
            harness.stop(process)
        self.assertEqual(process.returncode, 0)  # drained on SIGTERM, not killed

    def test_a_stack_service_restarts_on_its_port_and_is_stopped_on_exit(self):
        with tempfile.TemporaryDirectory() as logs:
            with harness.Stack(BIN_DIR, log_dir=logs) as stack:
                sun = stack.start("cityscape-sun")
                port = sun.port
                self.assertGreater(port, 0)
                self.assertTrue(harness.wait_healthy_url(sun.url, timeout=20))
                self.assertIn(f"listening on http://127.0.0.1:{port}", sun.output())
                self.assertGreater(sun.rss_kib(), 0)
                sun.kill()
                self.assertFalse(sun.alive())
                self.assertIsNone(sun.rss_kib())
                sun.start()
                self.assertEqual(sun.port, port)
                self.assertTrue(harness.wait_healthy_url(sun.url, timeout=20))
            self.assertFalse(sun.alive())
            self.assertEqual(sun.proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()

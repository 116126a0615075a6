"""Live: cityscape-openload against a small local HTTP server whose answers take a known time.

Checks what makes it open loop (requests start on schedule while earlier ones are unanswered, so
connections pile up instead of requests waiting), the connection cap recorded as overflow, timeouts
counted from the intended start, the Server-Timing parts, and the closed-loop mode.
"""
import http.server
import os
import subprocess
import threading
import time
import unittest

from bench import loadgen

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("CITYSCAPE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
GENERATOR = os.path.join(BIN_DIR, "cityscape-openload")


class SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    delay = 0.2

    def do_GET(self):
        time.sleep(self.delay)
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Server-Timing", "queue;dur=1.5, location;dur=2, sun;dur=3.25, cache;desc=hit, total;dur=7")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@unittest.skipUnless(os.access(GENERATOR, os.X_OK), f"{GENERATOR} not built (swift build)")
class OpenLoad(unittest.TestCase):
    def serve(self, delay):
        handler = type("Handler", (SlowHandler,), {"delay": delay})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(server.server_close)
        self.addCleanup(server.shutdown)
        return f"http://127.0.0.1:{server.server_address[1]}/x"

    def test_requests_start_on_schedule_while_answers_are_slow(self):
        report = loadgen.run(GENERATOR, self.serve(0.3), rate=20, duration_s=1.5)
        records = report["records"]
        self.assertEqual(len(records), 30)
        self.assertEqual(report["ok"], 30)
        # A closed loop on one connection would have sent 5; open loop keeps 20/s × 0.3 s ≈ 6 in flight.
        self.assertGreaterEqual(report["peak_open_connections"], 5)
        for index, record in enumerate(records):
            self.assertAlmostEqual(record["intended_ms"], index * 50, delta=0.01)
            self.assertLess(record["start_ms"] - record["intended_ms"], 100, record)
            self.assertGreaterEqual(record["latency_ms"], 300, record)
        first = records[0]
        self.assertEqual((first["queue_ms"], first["location_ms"], first["sun_ms"], first["total_ms"]), (1.5, 2, 3.25, 7))
        self.assertEqual(report["statuses"], {"200": 30})
        self.assertGreaterEqual(report["latency_ms"]["p50"], 300)

    def test_connection_cap_is_recorded_as_overflow_not_delay(self):
        report = loadgen.run(GENERATOR, self.serve(0.5), rate=20, duration_s=1, max_connections=2)
        self.assertEqual(report["requests"], 20)
        self.assertEqual(report["peak_open_connections"], 2)
        self.assertGreater(report["overflow"], 10)
        self.assertEqual(report["overflow"] + report["ok"], 20)

    def test_timeouts_count_from_the_intended_start(self):
        report = loadgen.run(GENERATOR, self.serve(1.5), rate=4, duration_s=1, timeout_s=0.4)
        self.assertEqual(report["timeouts"], 4)
        for record in report["records"]:
            self.assertEqual(record["outcome"], "timeout")
            self.assertGreaterEqual(record["latency_ms"], 400)
            self.assertLess(record["latency_ms"], 1000)

    def test_closed_loop_sends_the_next_request_after_the_answer(self):
        report = loadgen.run(GENERATOR, self.serve(0.2), connections=2, duration_s=1)
        self.assertEqual(report["peak_open_connections"], 2)
        self.assertIn(report["requests"], range(8, 13))  # 2 connections × 1 s / 0.2 s, plus the last ones in flight
        starts = sorted(r["start_ms"] for r in report["records"])
        # Each connection waits for its answer: never more than two requests start within one answer's time.
        for a, c in zip(starts, starts[2:]):
            self.assertGreaterEqual(c - a, 150)

    def test_bad_arguments_are_refused(self):
        for args in (["--rate", "10", "--connections", "2"], ["--duration", "1s"], ["--rate", "-1"]):
            run = subprocess.run([GENERATOR, "http://127.0.0.1:1/", *args], capture_output=True, text=True)
            self.assertNotEqual(run.returncode, 0, args)
        run = subprocess.run([GENERATOR, "http://localhost:1/", "--rate", "1"], capture_output=True, text=True)
        self.assertIn("numeric IP address", run.stderr)


if __name__ == "__main__":
    unittest.main()

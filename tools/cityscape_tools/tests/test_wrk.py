"""wrk output parsing on recorded wrk outputs (fixtures/), and the progress line of a wrk run."""
import io
import os
import unittest
from contextlib import redirect_stdout

from tools.cityscape_tools import wrk

HERE = os.path.dirname(os.path.abspath(__file__))


def fixture(name):
    with open(os.path.join(HERE, "fixtures", name)) as f:
        return f.read()


class ParseWrk(unittest.TestCase):
    def test_fast_run(self):
        result = wrk.parse_wrk(fixture("wrk-fast.txt"))
        self.assertEqual(result["requests"], 12431)
        self.assertAlmostEqual(result["rps"], 12421.31)
        self.assertAlmostEqual(result["avg_ms"], 0.93)
        self.assertAlmostEqual(result["p99_ms"], 5.54)
        self.assertEqual((result["timeouts"], result["socket_errors"], result["non_2xx"]), (0, 0, 0))
        self.assertEqual(result["ok"], 12431)

    def test_units_us_ms_s(self):
        result = wrk.parse_wrk(fixture("wrk-slow-ok.txt"))
        self.assertAlmostEqual(result["avg_ms"], 502.46)
        self.assertAlmostEqual(result["p99_ms"], 505.22)
        self.assertAlmostEqual(result["seconds"], 2.0)
        result = wrk.parse_wrk(fixture("wrk-blocking-x1-timeouts.txt"))
        self.assertAlmostEqual(result["p99_ms"], 1020)  # "1.02s"

    def test_late_responses_count_as_requests_and_timeouts(self):
        result = wrk.parse_wrk(fixture("wrk-blocking-x1-timeouts.txt"))
        self.assertEqual((result["requests"], result["timeouts"], result["ok"]), (3, 2, 1))
        self.assertAlmostEqual(result["rps"], 0.75)
        self.assertAlmostEqual(result["ok_rps"], round(1 / 4.03, 2))
        self.assertEqual(result["socket_errors"], 2)

    def test_every_request_timed_out(self):
        result = wrk.parse_wrk(fixture("wrk-all-timeouts.txt"))
        self.assertEqual((result["requests"], result["timeouts"], result["ok"], result["ok_rps"]), (4, 4, 0, 0.0))
        self.assertIsNone(result["avg_ms"])  # wrk prints 0.00us: no response came in time
        self.assertIsNone(result["p99_ms"])

    def test_non_2xx(self):
        result = wrk.parse_wrk(fixture("wrk-non2xx.txt"))
        self.assertEqual((result["non_2xx"], result["ok"]), (8, 0))
        self.assertAlmostEqual(result["avg_ms"], 502.08)


class Countdown(unittest.TestCase):
    def test_countdown_without_tty_prints_every_5_s(self):
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            tick = wrk.countdown("x: ")
            for left in (14, 10, 9, 5, 1, 0):
                tick(left)
            tick.done()
        self.assertEqual(buffer.getvalue().splitlines(), ["x: 10 s left", "x: 5 s left", "x: 0 s left"])


if __name__ == "__main__":
    unittest.main()

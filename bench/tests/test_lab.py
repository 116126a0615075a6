"""The lab's arithmetic on made-up data: knees, Little's law from samples, metric parsing, the page's marks."""
import unittest
import xml.dom.minidom

from bench import lab, lab_report, loadgen, slow_replica


def step(rate, p99, ok_share=1.0, timeout_share=0.0):
    return {"offered_rps": rate, "p50_ms": min(p99, 1000), "p99_ms": p99, "ok_share": ok_share, "timeout_share": timeout_share,
            "shed_share": 0.0, "other_share": 1 - ok_share - timeout_share, "goodput_rps": rate * ok_share, "duration_s": 4}


class Knee(unittest.TestCase):
    def test_between_last_healthy_and_first_unhealthy_step(self):
        steps = [step(1, 1010), step(2, 1012), step(4, 1100), step(5, 1700), step(6, 2000, 0.6, 0.4), step(8, 1400)]
        self.assertEqual(lab.knee(steps), (4, 5))

    def test_failures_alone_make_a_step_unhealthy(self):
        steps = [step(1, 1010), step(2, 1010, ok_share=0.95, timeout_share=0.05)]
        self.assertEqual(lab.knee(steps), (1, 2))

    def test_no_knee_when_every_step_is_healthy(self):
        self.assertEqual(lab.knee([step(1, 1010), step(2, 1020)]), (2, None))

    def test_saturating_rates_stop_after_two_bad_steps(self):
        seen = []

        def run(rate):
            seen.append(rate)
            return step(rate, 1010 if rate < 400 else 2000, 1.0 if rate < 400 else 0.5, 0.0 if rate < 400 else 0.5)
        steps = lab.saturating_rates(100, 2, 3, 10, run)
        self.assertEqual(seen, [100, 200, 400, 800])
        self.assertEqual(len(steps), 4)


class LittlesLaw(unittest.TestCase):
    def test_integral_holds_each_sample_until_the_next(self):
        sampler = loadgen.InFlightSampler([], "x")
        sampler.samples = [(0.0, 0), (1.0, 4), (1.5, 2), (3.5, 0), (9.0, 0)]
        self.assertAlmostEqual(sampler.integral(), 4 * 0.5 + 2 * 2.0)

    def test_summary_compares_gauge_with_throughput_times_latency(self):
        records = [{"intended_ms": i * 100.0, "start_ms": i * 100.0 + 0.1, "latency_ms": 1000.1, "outcome": 200,
                    "queue_ms": None, "location_ms": 500, "sun_ms": 500, "total_ms": 1000} for i in range(40)]
        report = {"records": records, "duration_s": 4, "elapsed_s": 4.9, "latency_with_timeouts_ms": {"p50": 1000, "p99": 1001, "mean": 1000},
                  "schedule_lag_ms": {"p99": 0.1, "max": 0.2}, "peak_open_connections": 11}
        sampler = loadgen.InFlightSampler([], "x")
        sampler.samples = [(0.0, 10), (4.0, 0)]  # 40 request-seconds, as 40 requests of 1 s
        summary = lab.summarize(report, sampler, offered=10)
        little = summary["little"]
        self.assertAlmostEqual(little["predicted_in_flight"], 40 / 4.9, places=2)
        self.assertAlmostEqual(little["measured_in_flight"], 40 / 4.9, places=2)
        self.assertEqual(little["ratio"], 1.0)
        self.assertEqual((summary["ok"], summary["timeouts"], summary["goodput_rps"]), (40, 0, 10.0))

    def test_metric_value_reads_unlabelled_series_only(self):
        text = ("# TYPE gateway_requests_in_flight gauge\ngateway_requests_in_flight 7.0\n"
                'gateway_requests_in_flight_total{a="b"} 3\nhttp_requests_in_flight 9\n')
        self.assertEqual(loadgen.metric_value(text, "gateway_requests_in_flight"), 7.0)
        self.assertEqual(loadgen.metric_value(text, "http_requests_in_flight"), 9.0)
        self.assertIsNone(loadgen.metric_value(text, "proxy_requests_in_flight"))


class Page(unittest.TestCase):
    def test_sweep_and_timeline_have_one_mark_per_data_point(self):
        fix = {"id": "b4", "scenario": "blocking ×4", "n": 4, "latency_s": 1.0, "predicted_rps": 4,
               "steps": [step(r, 1010 if r <= 4 else 2000) for r in (1, 2, 3, 4, 5, 6, 7, 8)], "knee": [4, 5]}
        svg = lab_report.sweep_svg(fix, 2000)
        xml.dom.minidom.parseString(svg)
        self.assertEqual(svg.count('class="mark"'), 40)
        self.assertIn("predicted N/L = 4 req/s", svg)
        self.assertIn("measured knee", svg)
        run = {"scenario": "async", "connections": 20, "duration_s": 2,
               "points": [[0.0, 1001.0, "ok"], [0.0, 2000.0, "timeout"], [1.0, 5.0, "503"]]}
        svg = lab_report.timeline_svg(run, 2000, 1.0, 4)
        xml.dom.minidom.parseString(svg)
        self.assertEqual(svg.count('class="mark"'), 3)
        self.assertIn("timed out: 1", svg)

    def test_capacity_beyond_the_steps_is_said_not_drawn(self):
        fix = {"id": "a", "scenario": "async", "n": 10000, "latency_s": 1.0, "predicted_rps": 10000,
               "steps": [step(r, 1010) for r in (50, 100)], "knee": [100, None]}
        self.assertIn("off the chart", lab_report.sweep_svg(fix, 2000))
        self.assertIn("far beyond this machine", lab.sweep_reading(fix))


def slow_run(config_id, balance, p50, p99, timeouts, shares, slow=True, requests=110):
    return {"id": config_id, "label": config_id, "balance": balance, "slow_replica": slow, "duration_s": 10,
            "requests": requests, "ok": requests - timeouts, "timeouts": timeouts, "timeout_share": timeouts / requests,
            "ok_share": 1 - timeouts / requests, "p50_ms": p50, "p99_ms": p99,
            "replica_shares": shares, "replica_requests": [round(s * requests) for s in shares]}


def slow_result(lo_p99, lo_timeouts, lo_share):
    rest = (1 - lo_share) / 3
    result = {"replicas": 4, "workers": 4, "latency_s": 1.0, "slow_latency_s": 3.0, "slow_index": 3, "capacity_rps": 16,
              "rate": 11.2, "duration_s": 10, "timeout_s": 5.0,
              "runs": [slow_run("healthy", "round-robin", 1005, 1010, 0, [0.25] * 4, slow=False),
                       slow_run("round-robin", "round-robin", 1010, 5000, 17, [0.25] * 4),
                       slow_run("least-outstanding", "least-outstanding", 1005, lo_p99, lo_timeouts, [rest] * 3 + [lo_share]),
                       slow_run("p2c", "p2c", 1005, 3020, 0, [0.3, 0.3, 0.3, 0.1])]}
    result["target"] = slow_replica.target(result)
    result["reading"] = slow_replica.reading(result)
    return result


class SlowReplica(unittest.TestCase):
    def test_round_robin_failure_and_a_missed_target_are_said(self):
        result = slow_result(3010, 0, 0.08)
        self.assertFalse(result["target"]["p99_met"])
        self.assertTrue(result["target"]["timeouts_met"])
        text = " ".join(result["reading"])
        self.assertIn("round-robin still sends it 25% of the requests", text)
        self.assertIn("17 of 110 timed out after 5 s", text)
        self.assertIn("= 1,212 ms with 0 timeouts: not met (p99 3,010 ms, 0 timeouts): every request", text)
        self.assertIn("| round-robin | 110 | 1,010 ms | 5,000 ms | 17 | 84.5% | 25% / 25% / 25% / 25%* |",
                      slow_replica.md_lines(result))

    def test_a_met_target_is_said_met(self):
        result = slow_result(1100, 0, 0.005)
        self.assertTrue(result["target"]["p99_met"])
        self.assertIn("0 timeouts: met (p99 1,100 ms, 0 timeouts).", result["reading"][-1])

    def test_the_target_is_judged_on_outlier_ejection_when_it_ran(self):
        result = slow_result(3010, 0, 0.08)
        ejection = slow_run("outlier-ejection", "least-outstanding", 1004, 1150, 0, [0.33, 0.33, 0.34, 0.0])
        ejection["latency_ejected"] = [False, False, False, True]
        result["runs"].append(ejection)
        result["target"] = slow_replica.target(result)
        result["reading"] = slow_replica.reading(result)
        self.assertEqual(result["target"]["judged"], "outlier-ejection")
        self.assertTrue(result["target"]["p99_met"])
        text = " ".join(result["reading"])
        self.assertIn("ejected the slow replica during the warm-up and kept it out for the measured run", text)
        self.assertIn("met with outlier ejection (p99 1,150 ms, 0 timeouts); the policy alone: p99 3,010 ms", text)

    def test_chart_has_a_mark_per_latency_timeout_and_share(self):
        svg = lab_report.slow_replica_svg(slow_result(3010, 0, 0.08))
        xml.dom.minidom.parseString(svg)
        self.assertEqual(svg.count('class="mark"'), 4 * (3 + 4))
        self.assertIn("replica 4 (the slow one, L = 3 s)", svg)
        self.assertIn("dashed: target 1.2 × all-healthy p99 = 1,212 ms", svg)


if __name__ == "__main__":
    unittest.main()

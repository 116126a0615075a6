"""The proxy summary (medians, ratios to nginx) and the demo's table, on recorded wrk outputs."""
import os
import unittest

from bench import bench, demo, gateway
from tools.cityscape_tools.results import ratio
from tools.cityscape_tools.wrk import parse_wrk

# The recorded wrk outputs live with the wrk parser's own tests.
FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "tools", "cityscape_tools", "tests", "fixtures")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


class ProxySummary(unittest.TestCase):
    def runs(self):
        fast, slow = parse_wrk(fixture("wrk-fast.txt")), parse_wrk(fixture("wrk-slow-ok.txt"))
        rows = []
        for rep, factor in enumerate((1.0, 1.2, 0.9)):
            rows.append({"rep": rep, "connections": 50, "target": "nginx", **fast, "rps": 40000 * factor,
                         "p99_ms": 10 * factor, "proxy_cpu_s_per_10k": 0.2 * factor, "proxy_peak_rss_mib": 30 + rep})
            rows.append({"rep": rep, "connections": 50, "target": "cityscape-proxy", **slow, "rps": 20000 * factor,
                         "p99_ms": 30 * factor, "proxy_cpu_s_per_10k": 0.5 * factor, "proxy_peak_rss_mib": 40})
            rows.append({"rep": rep, "connections": 50, "target": "direct", **fast, "rps": 90000 * factor, "p99_ms": 4})
        return rows

    def test_medians_and_ratios_to_nginx(self):
        summary = {row["target"]: row for row in bench.summarize_proxy(self.runs(), [50])}
        self.assertEqual(set(summary), {"direct", "nginx", "cityscape-proxy"})
        nginx, ours = summary["nginx"], summary["cityscape-proxy"]
        self.assertEqual((nginx["rps"], nginx["rps_min"], nginx["rps_max"], nginx["n"]), (40000, 36000, 48000, 3))
        self.assertEqual(ours["rps_vs_nginx"], 0.5)
        self.assertEqual(ours["p99_vs_nginx"], 3.0)
        self.assertEqual(ours["cpu_vs_nginx"], 2.5)
        self.assertEqual(nginx["peak_rss_mib"], 32)
        self.assertIsNone(summary["direct"]["cpu_s_per_10k"])
        self.assertEqual(summary["direct"]["rps_vs_nginx"], 2.25)

    def test_short_gateway_labels(self):
        self.assertEqual([bench.short_label(s) for s in ("async c=1000", "async c=5000", "blocking workers=16", "replicas=4×4 + proxy")],
                         ["async 1k", "async 5k", "N=16", "R=4"])

    def test_render_replaces_only_stack_ports(self):
        text = "listen 127.0.0.1:8080;\nserver 127.0.0.1:8010;\nserver 127.0.0.1:8011;\nmaxconn 8010\n"
        self.assertEqual(bench.render(text, {8080: 41000, 8010: 41001, 8011: 41002}),
                         "listen 127.0.0.1:41000;\nserver 127.0.0.1:41001;\nserver 127.0.0.1:41002;\nmaxconn 8010\n")


class DemoTable(unittest.TestCase):
    def test_table_and_explanation(self):
        parsed = [parse_wrk(fixture(name)) for name in
                  ("wrk-blocking-x1-timeouts.txt", "wrk-slow-ok.txt", "wrk-slow-ok.txt", "wrk-fast.txt", "wrk-all-timeouts.txt")]
        rows = [{"scenario": scenario[0], "processes": 5 if scenario[4] else 1, **result, "ratio_to_limit": ratio(result["rps"], 20),
                 "cpu_seconds": 0.5, "peak_rss_mib": 44.0, "threads": 7, "cpu_ms_per_1k": 166.7}
                for scenario, result in zip(demo.SCENARIOS, parsed)]
        table = demo.table(rows)
        self.assertEqual(len(table), 7)
        self.assertIn("| blocking ×1 | 1 | 3 | 0.8 | 0.04 | 0.2 | 1,020 ms | 1,020 ms | 2 | 0 | 0.50 | 44 MiB | 7 | 167 |", table)
        self.assertIn("| – | – |", table[-1])  # all timed out: no latency figures
        options = type("Options", (), {"connections": 20, "latency_s": 1.0, "timeout": "2s"})
        lines = demo.explanation(rows, options)
        self.assertEqual(len(lines), 5)
        self.assertIn("(2 of 3)", lines[0])


if __name__ == "__main__":
    unittest.main()


class GatewayOverload(unittest.TestCase):
    def test_rate_is_twice_the_most_200s_per_second_of_this_builds_async_rows(self):
        rows = [{"scenario": "async", "server": "cityscape", "ok_rps": 19.8},
                {"scenario": "baseline async c=1000", "server": "baseline", "ok_rps": 990.0},
                {"scenario": "async c=1000", "server": "cityscape", "ok_rps": 960.0},
                {"scenario": "async c=5000", "server": "cityscape", "ok_rps": 3512.0},
                {"scenario": "go c=5000", "server": "go", "ok_rps": 3800.0}]
        self.assertEqual(gateway.overload_rate(rows, None), 7000)
        self.assertEqual(gateway.overload_rate(rows, 1234.0), 1234.0)
        self.assertIsNone(gateway.overload_rate([r for r in rows if r["server"] != "cityscape"], None))

    def test_latencies_by_outcome(self):
        records = ([{"outcome": 200, "latency_ms": 1000.0 + i} for i in range(100)]
                   + [{"outcome": 503, "latency_ms": 0.5 + i / 100} for i in range(100)]
                   + [{"outcome": "timeout", "latency_ms": 5000.0}, {"outcome": "overflow", "latency_ms": None}])
        summary = gateway.by_status(records)
        self.assertEqual(summary["200"], {"n": 100, "p50_ms": 1050.0, "p99_ms": 1099.0})
        self.assertEqual(summary["503"], {"n": 100, "p50_ms": 1.0, "p99_ms": 1.5})
        self.assertEqual(summary["timeout"]["n"], 1)
        self.assertEqual(summary["overflow"], {"n": 1, "p50_ms": None, "p99_ms": None})

    def test_command_line_names_every_given_option(self):
        options = gateway.argparse.Namespace(bin_dir=".build/release", skip_high=False, skip_course=True, skip_peer=False,
                                             skip_fixed=True, skip_overload=False, connections=[5000, 10000], seconds=20, overload_rate=7000.0,
                                             baseline_bin="/tmp/base")
        self.assertEqual(gateway.command_line(options),
                         "python3 -m bench.gateway .build/release --skip-course --skip-fixed --connections 5000 10000 --seconds 20 "
                         "--overload-rate 7000 --baseline-bin /tmp/base")

"""SVG chart writing, the proxy summary (medians, ratios to nginx) and the demo's table, on recorded data."""
import os
import re
import sys
import tempfile
import unittest
import xml.dom.minidom

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

import importlib.util  # noqa: E402

# bench/bench.py by path: `import bench` could find the bench/ directory itself as a namespace package.
_spec = importlib.util.spec_from_file_location("cityscape_bench", os.path.join(os.path.dirname(HERE), "bench.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)
import chart  # noqa: E402
import demo  # noqa: E402
import harness  # noqa: E402


def fixture(name):
    with open(os.path.join(HERE, "fixtures", name)) as f:
        return f.read()


class Chart(unittest.TestCase):
    def render(self, **panel):
        base = {"title": "req/s", "series": [("rps", [1.0, 4.0, 20.0, 2400.0], "#123456")]}
        return chart.render("demo <c=20> & L", ["a", "b", "c", "d"], [{**base, **panel}], note="n")

    def test_well_formed_with_escaped_text(self):
        svg = self.render()
        document = xml.dom.minidom.parseString(svg)
        self.assertEqual(document.documentElement.tagName, "svg")
        self.assertIn("demo &lt;c=20&gt; &amp; L", svg)

    def test_one_bar_per_value_and_labels(self):
        svg = self.render()
        bars = re.findall(r'<rect [^>]*fill="#123456"', svg)
        self.assertEqual(len(bars), 4)
        for label in ("1.0", "4.0", "20.0", "2,400"):
            self.assertIn(f">{label}</text>", svg)

    def test_limit_line_and_cut_bar(self):
        svg = self.render(line=(20, "c/L = 20"), cap=30)
        self.assertIn('stroke-dasharray="6,4"', svg)
        self.assertIn(">c/L = 20</text>", svg)
        self.assertEqual(svg.count("<polyline"), 1)  # only the 2,400 bar is cut
        self.assertIn(">2,400</text>", svg)          # ... and still labelled with its real value
        heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" fill="#123456"', svg)]
        self.assertLess(max(heights), 200)

    def test_bar_heights_are_proportional(self):
        svg = chart.render("t", ["a", "b"], [{"title": "p", "series": [("s", [10, 40], "#000001")]}])
        heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#000001"', svg)]
        self.assertAlmostEqual(heights[1] / heights[0], 4, places=1)

    def test_missing_values_draw_nothing_and_panels_have_own_categories(self):
        svg = chart.render("t", [], [{"title": "p", "categories": ["x", "y"], "series": [("s", [None, 3], "#000002")]}])
        self.assertEqual(len(re.findall(r'fill="#000002"', svg)), 1)
        self.assertIn(">x</text>", svg)

    def test_write(self):
        with tempfile.TemporaryDirectory() as directory:
            path = chart.write(os.path.join(directory, "c.svg"), "t", ["a"], [{"title": "p", "series": [("s", [1], "#000")]}])
            xml.dom.minidom.parse(path)

    def test_nice_axis_maximum(self):
        self.assertEqual([chart.nice_max(v) for v in (0, 0.3, 7, 22, 31, 990)], [1, 1, 10, 25, 50, 1000])


class ProxySummary(unittest.TestCase):
    def runs(self):
        fast, slow = harness.parse_wrk(fixture("wrk-fast.txt")), harness.parse_wrk(fixture("wrk-slow-ok.txt"))
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
        parsed = [harness.parse_wrk(fixture(name)) for name in
                  ("wrk-blocking-x1-timeouts.txt", "wrk-slow-ok.txt", "wrk-slow-ok.txt", "wrk-fast.txt", "wrk-all-timeouts.txt")]
        rows = [{"scenario": scenario[0], "processes": 5 if scenario[4] else 1, **result, "ratio_to_limit": harness.ratio(result["rps"], 20),
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

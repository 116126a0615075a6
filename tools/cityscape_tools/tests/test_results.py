"""The maths of the results tables, and the JSON + Markdown pair a run writes."""
import contextlib
import io
import json
import os
import tempfile
import unittest

from tools.cityscape_tools import results


class TableMaths(unittest.TestCase):
    def test_ratio(self):
        self.assertEqual(results.ratio(18.6, 20), 0.93)
        self.assertEqual(results.ratio(1, 3, 3), 0.333)
        self.assertIsNone(results.ratio(5, 0))
        self.assertIsNone(results.ratio(5, None))
        self.assertIsNone(results.ratio(None, 5))

    def test_median_ignores_missing(self):
        self.assertEqual(results.median([3, 1, 2]), 2)
        self.assertEqual(results.median([4, None, 1, 2, 3]), 2.5)
        self.assertIsNone(results.median([None]))

    def test_nearest_rank(self):
        self.assertEqual(results.nearest_rank([3, 1, 2], 0.5), 2)
        self.assertEqual(results.nearest_rank(range(100), 0.99), 99)
        self.assertEqual(results.nearest_rank([5, 7], 1.0), 7)
        self.assertIsNone(results.nearest_rank([], 0.99))

    def test_write_results_leaves_the_json_and_md_pair(self):
        with tempfile.TemporaryDirectory() as directory:
            base = os.path.join(directory, "new", "run-1")
            results.write_results(base, {"rps": 12.5}, ["# run", "| a |"])
            with open(base + ".json") as data:
                self.assertEqual(json.load(data), {"rps": 12.5})
            with open(base + ".md") as report:
                self.assertEqual(report.read(), "# run\n| a |\n")

    def test_publish_results_writes_the_pair_and_prints_the_report(self):
        with tempfile.TemporaryDirectory() as directory:
            base = os.path.join(directory, "run-2")
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                results.publish_results(base, {"ok": 1}, ["# run", "| b |"])
            with open(base + ".md") as report:
                self.assertEqual(report.read(), "# run\n| b |\n")
            self.assertEqual(printed.getvalue(), f"# run\n| b |\n\nwrote {base}.json and .md\n")

    def test_timestamp_is_utc_compact(self):
        self.assertRegex(results.timestamp(), r"^\d{8}T\d{6}Z$")


if __name__ == "__main__":
    unittest.main()

"""Live: one short run of make demo (2 s per scenario) into a temporary directory."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("CITYSCAPE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))


def read(path):
    with open(path) as f:
        return f.read()


@unittest.skipUnless(shutil.which("wrk"), "wrk not installed (scripts/install-deps.sh wrk)")
class DemoSmoke(unittest.TestCase):
    def test_two_seconds_per_scenario(self):
        with tempfile.TemporaryDirectory() as out:
            run = subprocess.run([sys.executable, os.path.join(ROOT, "bench", "demo.py"), BIN_DIR, "--duration", "2",
                                  "--out", out], capture_output=True, text=True, timeout=120)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            for k in range(1, 6):
                self.assertIn(f"[{k}/5]", run.stdout)
            files = sorted(os.listdir(out))
            self.assertEqual([os.path.splitext(f)[1] for f in files], [".json", ".md", ".svg"])
            with open(os.path.join(out, files[0])) as f:
                result = json.load(f)
            rows = {row["scenario"]: row for row in result["scenarios"]}
            self.assertEqual(len(rows), 5)
            self.assertEqual(rows["4×4 + proxy"]["processes"], 5)
            for row in rows.values():
                self.assertEqual(row["non_2xx"], 0, row)
                self.assertEqual(row["socket_errors"] - row["timeouts"], 0, row)
            self.assertGreater(rows["async"]["requests"], rows["blocking ×1"]["requests"])
            self.assertIn("</svg>", read(os.path.join(out, files[2])))
            self.assertEqual(read(os.path.join(out, files[1])).count("\n| "), 6)


if __name__ == "__main__":
    unittest.main()

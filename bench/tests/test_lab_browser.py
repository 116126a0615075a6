"""Live: a quick `make demo` run, its HTML report rendered in headless Chromium over the DevTools protocol.

Asserts from the rendered DOM that every chart the JSON calls for is on the page with one visible mark
per data point, that every chart has its reading, and that the page logs no console error; saves a PNG
screenshot next to the page. Under `make test-tooling` (CITYSCAPE_REQUIRE_BROWSER=1) a missing browser
or websocket client is a failure, not a skip.
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BIN_DIR = os.environ.get("CITYSCAPE_BIN_DIR", os.path.join(ROOT, ".build", "debug"))
REQUIRED = os.environ.get("CITYSCAPE_REQUIRE_BROWSER") == "1"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
try:
    import websocket  # websocket-client, pinned in tools/requirements.txt
except ImportError:
    websocket = None

MISSING = [name for name, present in (("chromium", CHROMIUM), ("websocket-client", websocket), ("wrk", shutil.which("wrk")),
                                      ("nginx", shutil.which("nginx")), ("haproxy", shutil.which("haproxy"))) if not present]


def expected_marks(result):
    """Marks each chart must show, counted from the data (not from the page)."""
    lab = result["lab"]
    marks = {"course": 3 * len(result["scenarios"]), "cost": 3 * len(result["scenarios"]),
             "little": 2 * len(lab["timelines"])}
    for fix in lab["sweeps"]:
        marks["sweep-" + fix["id"]] = 5 * len(fix["steps"])  # p50 dot, p99 dot, three failure shares per step
    for run in lab["timelines"]:
        marks["timeline-" + run["id"]] = run["requests"]     # one dot per request
    slow = lab["slow_replica"]
    marks["slow-replica"] = (3 + slow["replicas"]) * len(slow["runs"])  # p50, p99, timeouts, a share per replica
    return marks


class DevTools:
    """A minimal Chrome DevTools Protocol session on one page target."""

    def __init__(self, url):
        self.socket = websocket.create_connection(url, timeout=30, suppress_origin=True)
        self.next_id = 0
        self.events = []

    def call(self, method, **params):
        self.next_id += 1
        self.socket.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.socket.recv())
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_event(self, method, seconds=30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if any(event.get("method") == method for event in self.events):
                return
            self.events.append(json.loads(self.socket.recv()))
        raise TimeoutError(method)

    def close(self):
        self.socket.close()


class Browser:
    """Headless Chromium on a DevTools port it picks itself, stopped by PID."""

    def __init__(self, profile_dir):
        self.process = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
             "--remote-debugging-port=0", "--remote-allow-origins=*", f"--user-data-dir={profile_dir}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port_file = os.path.join(profile_dir, "DevToolsActivePort")
        deadline = time.monotonic() + 30
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError("chromium did not open its DevTools port")
            time.sleep(0.1)
        self.port = int(open(port_file).read().split()[0])

    def page_socket(self):
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as response:
            targets = json.load(response)
        return next(t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page")

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


RENDERED = """JSON.stringify([...document.querySelectorAll('figure[data-chart]')].map(f => {
  const svg = f.querySelector('svg'); const box = svg ? svg.getBoundingClientRect() : null;
  const inside = [...f.querySelectorAll('.mark')].filter(m => { const r = m.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    return box && x >= box.left - 1 && x <= box.right + 1 && y >= box.top - 1 && y <= box.bottom + 1; }).length;
  const reading = f.querySelector('.reading');
  return {id: f.dataset.chart, marks: f.querySelectorAll('.mark').length, inside: inside,
          width: box ? box.width : 0, height: box ? box.height : 0, reading: reading ? reading.textContent.trim() : ''};
}))"""


@unittest.skipIf(MISSING and not REQUIRED, f"not installed: {', '.join(MISSING)} (make test-tooling installs them)")
class LabReportInBrowser(unittest.TestCase):
    def test_quick_demo_report_renders_every_chart(self):
        self.assertEqual(MISSING, [], "make test-tooling installs chromium, wrk, nginx, haproxy and websocket-client")
        with tempfile.TemporaryDirectory() as out:
            started = time.monotonic()
            run = subprocess.run([sys.executable, "-m", "bench.demo", BIN_DIR, "--quick", "--out", out],
                                 capture_output=True, text=True, timeout=240, cwd=ROOT)
            print(f"\ndemo --quick took {time.monotonic() - started:.0f} s", file=sys.stderr)
            self.assertEqual(run.returncode, 0, run.stdout + run.stderr)
            names = sorted(os.listdir(out))
            self.assertEqual([os.path.splitext(name)[1] for name in names], [".html", ".json", ".md"], names)
            page, data = (os.path.join(out, names[0]), os.path.join(out, names[1]))
            self.assertIn(page, run.stdout)
            with open(data) as f:
                result = json.load(f)
            expected = expected_marks(result)
            for k in range(1, 6):
                self.assertIn(f"[{k}/5]", run.stdout)
            rows = {row["scenario"]: row for row in result["scenarios"]}
            self.assertEqual(rows["4×4 + proxy"]["processes"], 5)
            for row in rows.values():
                self.assertEqual(row["non_2xx"], 0, row)
                self.assertEqual(row["socket_errors"] - row["timeouts"], 0, row)
            self.assertGreater(rows["async"]["requests"], rows["blocking ×1"]["requests"])
            self.assertEqual(len(result["lab"]["sweeps"]), 3)
            self.assertEqual(len(result["lab"]["timelines"]), 4)
            slow = result["lab"]["slow_replica"]
            # --quick runs our policies only (no nginx/HAProxy anchors), in the page's order.
            self.assertEqual([(run["id"], run["balance"]) for run in slow["runs"]],
                             [("healthy", "round-robin"), ("round-robin", "round-robin"),
                              ("least-outstanding", "least-outstanding"), ("p2c", "p2c"),
                              ("outlier-ejection", "least-outstanding")])
            self.assertIn("--outlier-latency", slow["runs"][-1]["flags"])
            for run in slow["runs"]:
                if run["shares_from"] == "proxy /status":  # every request the generator sent went to one replica
                    self.assertEqual(sum(run["replica_requests"]), run["requests"], run)
                else:  # the gateways count what they finished: at least every answer, at most every request
                    self.assertTrue(run["ok"] <= sum(run["replica_requests"]) <= run["requests"], run)

            browser = Browser(os.path.join(out, "chromium-profile"))
            try:
                tools = DevTools(browser.page_socket())
                for domain in ("Page", "Runtime", "Log"):
                    tools.call(f"{domain}.enable")
                tools.call("Emulation.setDeviceMetricsOverride", width=880, height=1000, deviceScaleFactor=1, mobile=False)
                tools.call("Page.navigate", url="file://" + page)
                tools.wait_event("Page.loadEventFired")
                charts = json.loads(tools.call("Runtime.evaluate", expression=RENDERED, returnByValue=True)["result"]["value"])
                size = tools.call("Page.getLayoutMetrics")["cssContentSize"]
                tools.call("Emulation.setDeviceMetricsOverride", width=880, height=int(size["height"]), deviceScaleFactor=1,
                           mobile=False)
                shot = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)
                errors = [event for event in tools.events if
                          (event.get("method") == "Runtime.consoleAPICalled" and event["params"]["type"] in ("error", "assert"))
                          or event.get("method") == "Runtime.exceptionThrown"
                          or (event.get("method") == "Log.entryAdded" and event["params"]["entry"]["level"] == "error")]
                tools.close()
            finally:
                browser.stop()
            screenshot = os.path.splitext(page)[0] + ".png"
            with open(screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
            if os.environ.get("CITYSCAPE_KEEP_SCREENSHOT"):  # to look at it: CITYSCAPE_KEEP_SCREENSHOT=/tmp/lab.png
                shutil.copy(screenshot, os.environ["CITYSCAPE_KEEP_SCREENSHOT"])
                shutil.copy(page, os.path.splitext(os.environ["CITYSCAPE_KEEP_SCREENSHOT"])[0] + ".html")

            self.assertEqual(errors, [], "console errors on the page")
            self.assertEqual({c["id"]: c["marks"] for c in charts}, expected)
            for rendered in charts:
                self.assertEqual(rendered["inside"], rendered["marks"], f"{rendered['id']}: marks drawn outside the chart")
                self.assertGreater(rendered["width"], 300, rendered["id"])
                self.assertGreater(rendered["height"], 100, rendered["id"])
                self.assertGreater(len(rendered["reading"]), 40, f"{rendered['id']} has no reading")
            self.assertGreater(os.path.getsize(screenshot), 20_000)
            with open(screenshot, "rb") as f:
                self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")


if __name__ == "__main__":
    unittest.main()

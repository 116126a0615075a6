"""Unit tests of check_stack.py: the real deploy/ passes, and each kind of drift is caught.

Run from the repository root: python3 -m unittest discover -s tools/deploy/tests -t .   (needs PyYAML;
make deploy-check runs it in .venv-deploy, make test-tooling in .venv-tools)
"""

import shutil
import tempfile
import unittest
from pathlib import Path

from tools.cityscape_tools.stack import parse_stack
from tools.deploy import check_stack

REPO = Path(__file__).resolve().parents[3]


class ParseStackTests(unittest.TestCase):
    def test_parses_names_ports_and_flag_pairs(self):
        entries = parse_stack("# c\nproxy  cityscape-proxy 8080 --backend a:1 --backend b:2  # x\n\n")
        self.assertEqual(len(entries), 1)
        self.assertEqual((entries[0].name, entries[0].binary, entries[0].port), ("proxy", "cityscape-proxy", 8080))
        self.assertEqual(entries[0].flag("--backend"), ["a:1", "b:2"])
        self.assertEqual(check_stack.flags_as_env(entries[0]), {"CITYSCAPE_BACKENDS": "a:1,b:2"})

    def test_rejects_a_flag_without_value(self):
        with self.assertRaises(ValueError):
            parse_stack("gateway cityscape-gateway 8000 --mode\n")

    def test_durations(self):
        self.assertEqual(check_stack.seconds("15s"), 15)
        self.assertEqual(check_stack.seconds("500ms"), 0.5)
        self.assertEqual(check_stack.seconds("2min"), 120)


class DriftTests(unittest.TestCase):
    """Each test copies deploy/, changes one thing, and expects the checker to name it."""

    def setUp(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="check-stack-"))
        shutil.copytree(REPO / "deploy", self.tmp / "deploy")

    def tearDown(self):
        shutil.rmtree(self.tmp)

    def errors_after(self, relative: str, old: str, new: str) -> list[str]:
        path = self.tmp / "deploy" / relative
        text = path.read_text()
        self.assertIn(old, text, f"test fixture out of date: {old!r} not in {relative}")
        path.write_text(text.replace(old, new, 1))
        return check_stack.Checker(self.tmp).run()

    def assertCaught(self, errors: list[str], fragment: str):
        self.assertTrue(any(fragment in e for e in errors), f"no error mentions {fragment!r}: {errors}")

    def test_the_repository_passes(self):
        self.assertEqual(check_stack.Checker(REPO).run(), [])

    def test_compose_port_drift(self):
        errors = self.errors_after("compose.yaml", '[cityscape-sun, --port, "8002"]', '[cityscape-sun, --port, "8003"]')
        self.assertCaught(errors, "sun: command lacks `--port 8002`")

    def test_compose_worker_count_drift(self):
        errors = self.errors_after("compose.yaml", '"8011", --mode, blocking, --workers, "4"', '"8011", --mode, blocking, --workers, "8"')
        self.assertCaught(errors, "gateway-b2: command lacks `--workers 4`")

    def test_compose_extra_published_port(self):
        errors = self.errors_after("compose.yaml", "    command: [cityscape-sun, --port, \"8002\"]\n",
                                   "    command: [cityscape-sun, --port, \"8002\"]\n    ports: [\"8002:8002\"]\n")
        self.assertCaught(errors, "sun: only")

    def test_stack_conf_gains_a_replica(self):
        path = self.tmp / "deploy" / "stack.conf"
        text = path.read_text().replace(
            "proxy ", "gateway-b3    cityscape-gateway    8012  --mode blocking --workers 4\nproxy ", 1)
        path.write_text(text.replace("--backend 127.0.0.1:8011", "--backend 127.0.0.1:8011 --backend 127.0.0.1:8012"))
        errors = check_stack.Checker(self.tmp).run()
        self.assertCaught(errors, "services without a profile")
        self.assertCaught(errors, "cityscape.target: Wants=")
        self.assertCaught(errors, "replicas=2 != 3")
        self.assertCaught(errors, "CITYSCAPE_BACKENDS=127.0.0.1:8010,127.0.0.1:8011 != 127.0.0.1:8010,127.0.0.1:8011,127.0.0.1:8012")

    def test_systemd_port_and_timeout_drift(self):
        errors = self.errors_after("systemd/cityscape-location.service", "CITYSCAPE_PORT=8001", "CITYSCAPE_PORT=8009")
        self.assertCaught(errors, "CITYSCAPE_PORT=8009 != 8001")
        errors = self.errors_after("systemd/cityscape-proxy.service", "TimeoutStopSec=15s", "TimeoutStopSec=10s")
        self.assertCaught(errors, "TimeoutStopSec=10s must exceed")

    def test_systemd_async_gateway_needs_its_env_file(self):
        (self.tmp / "deploy" / "systemd" / "gateway-8000.env").unlink()
        self.assertCaught(check_stack.Checker(self.tmp).run(), "CITYSCAPE_MODE=blocking != async")

    def test_systemd_hardening_must_stay_identical(self):
        errors = self.errors_after("systemd/cityscape-sun.service", "ProtectClock=yes\n", "")
        self.assertCaught(errors, "cityscape-sun.service: hardening differs")

    def test_kubernetes_drift(self):
        errors = self.errors_after("kubernetes/configmap.yaml", 'CITYSCAPE_WORKERS: "4"', 'CITYSCAPE_WORKERS: "2"')
        self.assertCaught(errors, "ConfigMap CITYSCAPE_WORKERS=2 != 4")
        errors = self.errors_after("kubernetes/location.yaml", "terminationGracePeriodSeconds: 20", "terminationGracePeriodSeconds: 12")
        self.assertCaught(errors, "terminationGracePeriodSeconds=12 must exceed")

    def test_kustomization_must_list_every_manifest(self):
        (self.tmp / "deploy" / "kubernetes" / "extra.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n")
        self.assertCaught(check_stack.Checker(self.tmp).run(), "kustomization.yaml: resources")


    def test_dockerfile_host_build_must_bring_data_and_backtracer(self):
        errors = self.errors_after("Dockerfile", "FROM binaries-${BINARIES} AS binaries", "FROM binaries-toolchain AS binaries")
        self.assertCaught(errors, "BINARIES must pick the stage")
        errors = self.errors_after("Dockerfile", "COPY --from=swift libexec/swift/linux/swift-backtrace-static /staging/libexec/swift/linux/\n", "")
        self.assertCaught(errors, "SWIFT_BACKTRACE must name the backtracer both stages copy")

if __name__ == "__main__":
    unittest.main()

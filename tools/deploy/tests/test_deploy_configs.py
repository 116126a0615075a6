"""The nginx and HAProxy configs in deploy/ (and the copies make bench renders) pass nginx -t / haproxy -c."""
import os
import shutil
import subprocess
import tempfile
import unittest

from bench import bench
from tools.cityscape_tools.harness import ROOT
from tools.cityscape_tools.stack import read_stack

NGINX = os.path.join(ROOT, "deploy", "nginx", "cityscape.conf")
HAPROXY = os.path.join(ROOT, "deploy", "haproxy", "cityscape.cfg")


def stack_ports():
    """name -> port, and the proxy's backend addresses, from deploy/stack.conf."""
    entries = read_stack()
    return {entry.name: entry.port for entry in entries}, [address for entry in entries for address in entry.flag("--backend")]


def read(path):
    with open(path) as f:
        return f.read()


class DeployConfigs(unittest.TestCase):
    def test_configs_use_the_stack_ports(self):
        ports, backends = stack_ports()
        for path in (NGINX, HAPROXY):
            text = read(path)
            self.assertIn(f"127.0.0.1:{ports['proxy']}", text, path)
            for backend in backends:
                self.assertIn(backend, text, path)

    @unittest.skipUnless(shutil.which("nginx"), "nginx not installed (scripts/install-deps.sh nginx-light)")
    def test_nginx_t(self):
        with tempfile.TemporaryDirectory() as directory:
            rendered = os.path.join(directory, "nginx.conf")
            with open(rendered, "w") as out:
                out.write(bench.render(read(NGINX), {8080: 18080, 8010: 18010, 8011: 18011}))
            for conf in (NGINX, rendered):
                result = subprocess.run(["nginx", "-t", "-c", conf, "-p", directory, "-g",
                                         f"pid {directory}/nginx.pid; error_log {directory}/error.log;"],
                                        capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, result.stderr)

    @unittest.skipUnless(shutil.which("haproxy"), "haproxy not installed (scripts/install-deps.sh haproxy)")
    def test_haproxy_c(self):
        with tempfile.TemporaryDirectory() as directory:
            rendered = os.path.join(directory, "haproxy.cfg")
            with open(rendered, "w") as out:
                out.write(bench.render(read(HAPROXY), {8080: 18080, 8010: 18010, 8011: 18011}))
            for conf in (HAPROXY, rendered):
                result = subprocess.run(["haproxy", "-c", "-f", conf], capture_output=True, text=True)
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()

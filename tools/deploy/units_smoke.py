"""Starts the stack the way the systemd units would, and checks that it answers.

For every process of deploy/stack.conf, in order: take its unit's ExecStart= command line (`%i` expanded),
map /usr/local/bin/ to the built binaries, apply the unit's Environment= and the environment files shipped
in deploy/systemd/, then start it on 127.0.0.1 with port 0 (as an environment file would override it: a
free port, read back from the "listening on" line, so a running `make run` is never disturbed) and
wait for GET /healthz. Addresses of upstreams and backends are rewritten from stack.conf ports to the
real ones. Then a request goes through the proxy and the async gateway, and every process gets SIGTERM
(by PID, in reverse order) and must exit 0 within the unit's TimeoutStopSec.

Usage (from the repository root): python3 -m tools.deploy.units_smoke [BIN_DIR]   (default: .build/release when it holds all four binaries, else .build/debug)
Development tooling only: nothing here is on the serving path.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tools.cityscape_tools.harness import get, terminate
from tools.cityscape_tools.stack import read_stack
from tools.deploy.check_stack import parse_env_file, parse_unit, seconds, unit_environment

ROOT = Path(__file__).resolve().parents[2]
BINARIES = ("cityscape-location", "cityscape-sun", "cityscape-gateway", "cityscape-proxy")
START_TIMEOUT = 60.0  # a debug build loads the postal table more slowly than a release one
LISTENING = re.compile(r"listening on http://127\.0\.0\.1:(\d+)")
ADMIN = re.compile(r"admin at http://127\.0\.0\.1:(\d+)")


def default_bin_dir() -> Path:
    for candidate in (ROOT / ".build" / "release", ROOT / ".build" / "debug"):
        if all((candidate / b).is_file() for b in BINARIES):
            return candidate
    raise SystemExit("units_smoke: no built binaries in .build/release or .build/debug (run `make build` first)")


class Process:
    def __init__(self, name: str, argv: list[str], env: dict[str, str], stop_timeout: float, log_dir: Path):
        self.name, self.argv, self.stop_timeout = name, argv, stop_timeout
        self.log = log_dir / f"{name}.log"
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def wait_for(self, pattern: re.Pattern[str]) -> int:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            match = pattern.search(self.log.read_text(errors="replace"))
            if match:
                return int(match[1])
            if self.popen.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"{self.name} did not log {pattern.pattern!r} (exit {self.popen.poll()}):\n{self.tail()}")

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-15:])

    def stop(self) -> str | None:
        """SIGTERM, then SIGKILL after the unit's TimeoutStopSec; returns a problem or None."""
        if self.popen.poll() is not None:
            return f"{self.name} had already exited with {self.popen.returncode}"
        code, killed = terminate(self.popen, self.stop_timeout)
        if killed:
            return f"{self.name} ignored SIGTERM for {self.stop_timeout:g}s (TimeoutStopSec) and was killed"
        return None if code == 0 else f"{self.name} exited {code} after SIGTERM:\n{self.tail()}"


def remap(value: str, ports: dict[int, int]) -> str:
    """127.0.0.1:8001 -> 127.0.0.1:<the port location really got>, for every port already known."""
    return re.sub(r"(?<=:)(\d+)\b", lambda m: str(ports.get(int(m[1]), m[1])), value)


def main(argv: list[str]) -> int:
    bin_dir = Path(argv[1]).resolve() if len(argv) > 1 else default_bin_dir()
    units_dir = ROOT / "deploy" / "systemd"
    stack = read_stack(ROOT)
    ports: dict[int, int] = {}
    processes: list[Process] = []
    problems: list[str] = []
    log_dir = Path(tempfile.mkdtemp(prefix="cityscape-units-"))
    print(f"units_smoke: binaries from {bin_dir}, logs in {log_dir}")
    try:
        for entry in stack:
            template = entry.binary == "cityscape-gateway"
            unit_file = units_dir / (f"{entry.binary}@.service" if template else f"{entry.binary}.service")
            unit = parse_unit(unit_file.read_text())
            env = unit_environment(unit)
            short = entry.binary.removeprefix("cityscape-")
            for env_file in ("cityscape.env", f"{short}.env", f"{short}-{entry.port}.env"):
                if (units_dir / env_file).exists():
                    env.update(parse_env_file((units_dir / env_file).read_text()))
            env = {key: remap(value, ports) for key, value in env.items()}
            admin_port = None
            if "CITYSCAPE_ADMIN" in env:
                admin_port = int(env["CITYSCAPE_ADMIN"].rsplit(":", 1)[1])
                env["CITYSCAPE_ADMIN"] = "127.0.0.1:0"
            env["CITYSCAPE_PORT"] = "0"  # overrides the unit's port as /etc/cityscape/*.env would
            env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
            command = shlex.split(unit["Service"]["ExecStart"][-1].replace("%i", "0"))
            if not command[0].startswith("/usr/local/bin/"):
                raise RuntimeError(f"{unit_file.name}: ExecStart {command[0]} is not under /usr/local/bin")
            command[0] = str(bin_dir / Path(command[0]).name)
            stop_timeout = seconds(unit["Service"].get("TimeoutStopSec", ["90s"])[-1])
            process = Process(entry.name, command, env, stop_timeout, log_dir)
            processes.append(process)
            ports[entry.port] = process.wait_for(LISTENING)
            health_port = ports[entry.port]
            if admin_port is not None:
                ports[admin_port] = health_port = process.wait_for(ADMIN)
            status, body = get(f"http://127.0.0.1:{health_port}/healthz")
            if status != 200:
                raise RuntimeError(f"{entry.name}: GET /healthz answered {status}")
            # The gateway reports its mode's bound: the unit's environment really reached the process.
            if entry.binary == "cityscape-gateway":
                workers = entry.flag("--workers")
                wanted = f'"workers":{workers[0]}' if entry.blocking and workers else '"max_in_flight"'
                if wanted not in body:
                    raise RuntimeError(f"{entry.name}: /healthz {body} lacks {wanted} (mode/workers of stack.conf)")
            shown = " ".join([unit_file.name.replace("@.", "@0."), *command[1:]])
            print(f"units_smoke: {entry.name:<11} {shown:<42} /healthz 200 on 127.0.0.1:{health_port}")
        # The wiring of the units, end to end: through the proxy (blocking replicas) and the async gateway.
        for name in ("proxy", "gateway"):
            port = ports[next(e.port for e in stack if e.name == name)]
            status, body = get(f"http://127.0.0.1:{port}/api/sun/97227/US?date=2026-06-21")
            if status != 200 or '"place":"Portland"' not in body:
                problems.append(f"GET /api/sun/97227/US through {name} answered {status}: {body[:200]}")
            else:
                print(f"units_smoke: GET /api/sun/97227/US through {name}: 200 Portland")
    except Exception as error:  # report, then always stop what was started
        problems.append(str(error))
    finally:
        for process in reversed(processes):
            problem = process.stop()
            if problem:
                problems.append(problem)
    for problem in problems:
        print(f"units_smoke: FAILED: {problem}", file=sys.stderr)
    if problems:
        print(f"units_smoke: logs kept in {log_dir}", file=sys.stderr)
        return 1
    for log in log_dir.iterdir():
        log.unlink()
    log_dir.rmdir()
    print(f"units_smoke: {len(processes)} unit command lines started, answered and drained on SIGTERM")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

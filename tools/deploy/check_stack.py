"""Checks that the files under deploy/ describe the stack of deploy/stack.conf.

deploy/stack.conf is the one stack description (name, binary, port, extra flags per line). This checker
reads compose.yaml, the systemd units and the Kubernetes manifests and reports every place where a port,
a flag or a replica count differs from it, plus a few invariants of each format (drain vs stop timeouts,
identical hardening in every unit, every manifest listed in kustomization.yaml).

Usage (from the repository root): python3 -m tools.deploy.check_stack [REPO_ROOT]    (exit 1 and one line per problem when something differs)
Development tooling only: nothing here is on the serving path. Needs PyYAML (in the deploy-check venv).
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path

import yaml

from tools.cityscape_tools.stack import Entry, parse_stack, port_of

#: Longest drain a service needs after SIGTERM (proxy --drain-timeout default; gateway: 2 calls x 5 s).
DRAIN_SECONDS = 10
#: Services whose port compose may publish (the async gateway and the proxy).
PUBLISHED = {"gateway", "proxy"}


# MARK: - stack.conf


def env_name(flag: str) -> str:
    """`--workers` -> CITYSCAPE_WORKERS; the repeatable `--backend` is the comma list CITYSCAPE_BACKENDS."""
    name = "backends" if flag == "--backend" else flag[2:]
    return "CITYSCAPE_" + name.upper().replace("-", "_")


def flags_as_env(entry: Entry) -> dict[str, str]:
    env: dict[str, str] = {}
    for flag, value in entry.flags:
        key = env_name(flag)
        env[key] = f"{env[key]},{value}" if key in env else value
    return env


def seconds(value: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|min|m)?", value.strip())
    if not match:
        raise ValueError(f"not a duration: {value!r}")
    number, unit = float(match[1]), match[2] or "s"
    return number * {"ms": 0.001, "s": 1, "m": 60, "min": 60}[unit]


# MARK: - Checker


class Checker:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.deploy = root / "deploy"
        self.stack = parse_stack((self.deploy / "stack.conf").read_text())
        self.by_port = {entry.port: entry for entry in self.stack}
        self.errors: list[str] = []
        self.checks = 0

    def expect(self, condition: bool, message: str) -> bool:
        self.checks += 1
        if not condition:
            self.errors.append(message)
        return condition

    def run(self) -> list[str]:
        for part in (self.check_compose, self.check_systemd, self.check_kubernetes, self.check_dockerfile):
            try:
                part()
            except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as error:
                self.errors.append(f"{part.__name__}: {type(error).__name__}: {error}")
        return self.errors

    # MARK: compose.yaml

    def check_compose(self) -> None:
        where = "compose.yaml"
        doc = yaml.safe_load((self.deploy / "compose.yaml").read_text())
        self.expect("version" not in doc, f"{where}: `version:` is obsolete in the Compose Specification")
        services = doc["services"]
        main = {name for name, service in services.items() if not service.get("profiles")}
        names = [entry.name for entry in self.stack]
        self.expect(main == set(names), f"{where}: services without a profile {sorted(main)} != stack.conf {names}")
        for entry in self.stack:
            service = services.get(entry.name)
            if service is None:
                continue
            where = f"compose.yaml: {entry.name}"
            command = [str(word) for word in service.get("command", [])]
            self.expect(command[:1] == [entry.binary], f"{where}: command must start with {entry.binary}, got {command[:1]}")
            given = list(zip(command[1::2], command[2::2]))
            self.expect(("--port", str(entry.port)) in given, f"{where}: command lacks `--port {entry.port}`")
            for flag, value in entry.flags:
                if flag in ("--backend", "--admin"):
                    wanted = {self.compose_address(flag, v) for v in entry.flag(flag)}
                    got = {v for f, v in given if f == flag}
                    self.expect(got == wanted, f"{where}: {flag} {sorted(got)} != {sorted(wanted)} (stack.conf: {entry.flag(flag)})")
                else:
                    self.expect((flag, value) in given, f"{where}: command lacks `{flag} {value}` from stack.conf")
            test = " ".join(map(str, service.get("healthcheck", {}).get("test", [])))
            self.expect(f"127.0.0.1:{entry.health_port}/healthz" in test, f"{where}: healthcheck must GET 127.0.0.1:{entry.health_port}/healthz")
            self.expect(service.get("restart") in ("always", "unless-stopped", "on-failure"), f"{where}: no restart policy")
            limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
            self.expect({"cpus", "memory"} <= set(limits), f"{where}: deploy.resources.limits needs cpus and memory")
            self.expect(seconds(str(service.get("stop_grace_period", "10s"))) > DRAIN_SECONDS, f"{where}: stop_grace_period must exceed the {DRAIN_SECONDS}s drain")
            published = service.get("ports", [])
            if entry.name in PUBLISHED:
                targets = {int(p["target"]) for p in published}
                self.expect(entry.port in targets, f"{where}: port {entry.port} is not published")
            else:
                self.expect(not published, f"{where}: only {sorted(PUBLISHED)} may publish ports")
            depends = service.get("depends_on", {})
            upstreams = self.upstreams(entry)
            self.expect(set(depends) == upstreams, f"{where}: depends_on {sorted(depends)} != the services it calls {sorted(upstreams)}")
            for name, rule in depends.items():
                self.expect(isinstance(rule, dict) and rule.get("condition") == "service_healthy", f"{where}: depends_on {name} must wait for service_healthy")
        demo = [s for s in services.values() if "demo" in s.get("profiles", [])]
        self.expect(any("500ms" in map(str, s.get("command", [])) for s in demo), "compose.yaml: the demo profile needs a service with --latency 500ms")

    def compose_address(self, flag: str, address: str) -> str:
        """stack.conf addresses are for one host; in compose a backend is the service name, admin binds all."""
        port = port_of(address)
        return f"0.0.0.0:{port}" if flag == "--admin" else f"{self.by_port[port].name}:{port}"

    def upstreams(self, entry: Entry) -> set[str]:
        if entry.binary == "cityscape-gateway":
            return {e.name for e in self.stack if e.binary in ("cityscape-location", "cityscape-sun")}
        return {self.by_port[port_of(b)].name for b in entry.flag("--backend")}

    # MARK: systemd

    def check_systemd(self) -> None:
        folder = self.deploy / "systemd"
        units = {path.name: parse_unit(path.read_text()) for path in folder.glob("*.service")}
        expected_units = set()
        for entry in self.stack:
            template = entry.binary == "cityscape-gateway"
            file = f"{entry.binary}@.service" if template else f"{entry.binary}.service"
            unit_name = f"{entry.binary}@{entry.port}.service" if template else file
            expected_units.add(unit_name)
            where = f"systemd/{file} ({entry.name})"
            if not self.expect(file in units, f"systemd: {file} is missing"):
                continue
            unit = units[file]
            env = unit_environment(unit)
            short = entry.binary.removeprefix("cityscape-")
            for env_file in ("cityscape.env", f"{short}.env", f"{short}-{entry.port}.env"):
                if (folder / env_file).exists():
                    env.update(parse_env_file((folder / env_file).read_text()))
            exec_start = shlex.split(unit["Service"]["ExecStart"][-1])
            self.expect(exec_start[0] == f"/usr/local/bin/{entry.binary}", f"{where}: ExecStart runs {exec_start[0]}, not /usr/local/bin/{entry.binary}")
            if template:
                self.expect(exec_start[1:3] == ["--port", "%i"], f"{where}: the template's ExecStart must pass `--port %i`")
            else:
                self.expect(env.get("CITYSCAPE_PORT") == str(entry.port), f"{where}: CITYSCAPE_PORT={env.get('CITYSCAPE_PORT')} != {entry.port}")
            for key, value in flags_as_env(entry).items():
                self.expect(env.get(key) == value, f"{where}: {key}={env.get(key)} != {value} (stack.conf)")
            stop = seconds(unit["Service"].get("TimeoutStopSec", ["90s"])[-1])
            drain = seconds(env.get("CITYSCAPE_DRAIN_TIMEOUT", f"{DRAIN_SECONDS}s"))
            self.expect(stop > max(drain, DRAIN_SECONDS), f"{where}: TimeoutStopSec={stop:g}s must exceed the drain timeout ({max(drain, DRAIN_SECONDS):g}s)")
            self.expect(unit["Service"].get("Restart") == ["on-failure"], f"{where}: Restart=on-failure expected")
            self.expect(bool(unit["Service"].get("EnvironmentFile")), f"{where}: no EnvironmentFile=")
        target = parse_unit((folder / "cityscape.target").read_text())
        wants = {name for line in target["Unit"].get("Wants", []) for name in line.split()}
        self.expect(wants == expected_units, f"systemd/cityscape.target: Wants={sorted(wants)} != {sorted(expected_units)}")
        blocks = {name: hardening_block((folder / name).read_text()) for name in units}
        reference = blocks.get("cityscape-gateway@.service", [])
        self.expect(len(reference) > 10, "systemd: cityscape-gateway@.service has no `# Hardening` block")
        for name, block in blocks.items():
            self.expect(block == reference, f"systemd/{name}: hardening differs from cityscape-gateway@.service")

    # MARK: Kubernetes

    def check_kubernetes(self) -> None:
        folder = self.deploy / "kubernetes"
        kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text())
        listed = set(kustomization.get("resources", []))
        present = {p.name for p in folder.glob("*.yaml")} - {"kustomization.yaml"}
        self.expect(listed == present, f"kubernetes/kustomization.yaml: resources {sorted(listed)} != files {sorted(present)}")
        docs = [doc for name in sorted(present) for doc in yaml.safe_load_all((folder / name).read_text()) if doc]
        kinds: dict[tuple[str, str], dict] = {(d["kind"], d["metadata"]["name"]): d for d in docs}
        config = {k: v for (kind, _), d in kinds.items() if kind == "ConfigMap" for k, v in d.get("data", {}).items()}
        container_ports: set[int] = set()
        blocking = [e for e in self.stack if e.blocking]
        for entry in self.stack:
            if entry.binary == "cityscape-proxy" or (entry.binary == "cityscape-gateway" and not entry.blocking):
                continue  # a Service load-balances instead of the proxy; the cluster runs one gateway kind
            name = "gateway" if entry.blocking else entry.name
            if entry.blocking and entry is not blocking[0]:
                continue
            where = f"kubernetes Deployment {name}"
            deployment = kinds.get(("Deployment", name))
            if not self.expect(deployment is not None, f"{where} is missing"):
                continue
            pod = deployment["spec"]["template"]["spec"]
            container = pod["containers"][0]
            command = [str(w) for w in container.get("command", [])]
            ports = [p["containerPort"] for p in container.get("ports", [])]
            container_ports.update(ports)
            allowed = {e.port for e in blocking} if entry.blocking else {entry.port}
            self.expect(command[:1] == [entry.binary], f"{where}: command must start with {entry.binary}")
            self.expect(len(ports) == 1 and ports[0] in allowed, f"{where}: containerPort {ports} not in {sorted(allowed)}")
            self.expect(["--port", str(ports[0] if ports else "")] == command[1:3], f"{where}: command must pass --port equal to the containerPort")
            for key, value in flags_as_env(entry).items():
                self.expect(config.get(key) == value, f"{where}: ConfigMap {key}={config.get(key)} != {value} (stack.conf)")
            for probe in ("readinessProbe", "livenessProbe"):
                self.expect(container.get(probe, {}).get("httpGet", {}).get("path") == "/healthz", f"{where}: {probe} must GET /healthz")
            sleep = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
            pre_stop = float(sleep[-1]) if sleep[:1] == ["sleep"] else 0
            grace = pod.get("terminationGracePeriodSeconds", 30)
            self.expect(pre_stop > 0, f"{where}: preStop should sleep so endpoints are removed before SIGTERM")
            self.expect(grace > pre_stop + DRAIN_SECONDS, f"{where}: terminationGracePeriodSeconds={grace} must exceed preStop {pre_stop:g}s + drain {DRAIN_SECONDS}s")
            security = container.get("securityContext", {})
            self.expect(security.get("readOnlyRootFilesystem") is True and security.get("allowPrivilegeEscalation") is False, f"{where}: read-only root and no privilege escalation expected")
            if entry.blocking:
                replicas = deployment["spec"].get("replicas")
                hpa = kinds.get(("HorizontalPodAutoscaler", "gateway"), {}).get("spec", {})
                self.expect(replicas == len(blocking), f"{where}: replicas={replicas} != {len(blocking)} blocking gateways in stack.conf")
                self.expect(hpa.get("minReplicas") == len(blocking), f"kubernetes HPA gateway: minReplicas={hpa.get('minReplicas')} != {len(blocking)}")
                self.expect(("PodDisruptionBudget", "gateway") in kinds, "kubernetes: PodDisruptionBudget gateway is missing")
        for key, upstream in (("CITYSCAPE_LOCATION_URL", "location"), ("CITYSCAPE_SUN_URL", "sun")):
            port = next(e.port for e in self.stack if e.name == upstream)
            self.expect(config.get(key) == f"http://{upstream}:{port}", f"kubernetes ConfigMap: {key}={config.get(key)} != http://{upstream}:{port}")
        for (kind, name), doc in kinds.items():
            if kind != "NetworkPolicy":
                continue
            for rule in doc["spec"].get("ingress", []):
                for port in rule.get("ports", []):
                    self.expect(port["port"] in container_ports, f"kubernetes NetworkPolicy {name}: port {port['port']} is no containerPort {sorted(container_ports)}")

    # MARK: Dockerfile

    def check_dockerfile(self) -> None:
        text = (self.deploy / "Dockerfile").read_text()
        where = "Dockerfile"
        self.expect("--static-swift-stdlib" in text, f"{where}: build with --static-swift-stdlib")
        self.expect(re.search(r"^FROM \$\{SWIFT_IMAGE\} AS build", text, re.M) is not None and "swift:6.3" in text, f"{where}: build stage on swift:6.3")
        self.expect(re.search(r"^USER (?!0\b|root\b)\S+", text, re.M) is not None, f"{where}: run as a non-root USER")
        self.expect(re.search(r"^HEALTHCHECK ", text, re.M) is not None, f"{where}: HEALTHCHECK missing")
        self.expect(re.search(r"^ENV [\s\S]*SWIFT_BACKTRACE=", text, re.M) is not None, f"{where}: SWIFT_BACKTRACE not set")
        # Both ways to the binaries (built in the toolchain image, or copied from a host build) fill /staging.
        for stage in ("binaries-toolchain", "binaries-host-static", "binaries-host"):
            self.expect(re.search(rf"^FROM \S+ AS {stage}$", text, re.M) is not None, f"{where}: stage {stage} missing")
        self.expect(re.search(r"^FROM binaries-\$\{BINARIES\} AS binaries$", text, re.M) is not None, f"{where}: BINARIES must pick the stage")
        # The location binary looks for <bin>/../share/cityscape/postal_codes.tsv.gz; /usr/local/bin is <bin>.
        self.expect(text.count("COPY Data/postal/postal_codes.tsv.gz") == 2 and "/staging/share/cityscape/" in text
                    and "COPY --from=binaries /staging/ /usr/local/" in text, f"{where}: postal data must land in /usr/local/share/cityscape/")
        backtracer = re.search(r"swift-backtrace=(\S+)", text)
        self.expect(backtracer is not None and backtracer.group(1) == "/usr/local/libexec/swift/linux/swift-backtrace-static"
                    and text.count("/staging/libexec/swift/linux/") >= 2, f"{where}: SWIFT_BACKTRACE must name the backtracer both stages copy")
        runtime = text.rsplit("\nFROM ", 1)[-1]
        packages = set(re.findall(r"^\s+([a-z0-9][a-z0-9. +-]*?) \\$", runtime, re.M)[0].split()) if "apt-get install" in runtime else set()
        allowed = {"libcurl4", "ca-certificates", "tzdata", "curl"}
        self.expect(packages and packages <= allowed, f"{where}: runtime packages {sorted(packages)} must be within {sorted(allowed)}")


# MARK: - systemd unit parsing


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Sections -> key -> every value in order (systemd keys may repeat)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), {})
        elif current is not None and "=" in line:
            key, value = line.split("=", 1)
            current.setdefault(key.strip(), []).append(value.strip())
    return sections


def unit_environment(unit: dict[str, dict[str, list[str]]]) -> dict[str, str]:
    env = {}
    for line in unit.get("Service", {}).get("Environment", []):
        for word in shlex.split(line):
            key, _, value = word.partition("=")
            env[key] = value
    return env


def parse_env_file(text: str) -> dict[str, str]:
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip('"')
    return env


def hardening_block(text: str) -> list[str]:
    """The directives from `# Hardening` to the end of [Service], IP allow lists excepted (internal services only)."""
    block = text.split("# Hardening", 1)[-1].split("[Install]", 1)[0] if "# Hardening" in text else ""
    return [l for l in block.splitlines() if l.strip() and not l.startswith(("#", "IPAddress"))]


def main(argv: list[str]) -> int:
    root = Path(argv[1] if len(argv) > 1 else Path(__file__).resolve().parents[2])
    checker = Checker(root)
    errors = checker.run()
    for error in errors:
        print(f"check_stack: {error}", file=sys.stderr)
    if errors:
        print(f"check_stack: {len(errors)} of {checker.checks} checks failed against deploy/stack.conf", file=sys.stderr)
        return 1
    print(f"check_stack: {checker.checks} checks, deploy/ matches deploy/stack.conf ({len(checker.stack)} processes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

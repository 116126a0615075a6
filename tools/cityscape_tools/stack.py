"""deploy/stack.conf, the one description of the local stack: one process per line, in start order.

Every tool that needs the stack's names, ports or flags reads it here (the deploy checker, the deploy test
in podman, the units smoke test, the tooling tests); standard library only, so it imports in the system
Python as in every venv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Entry:
    """One process of deploy/stack.conf."""

    name: str
    binary: str
    port: int
    flags: list[tuple[str, str]] = field(default_factory=list)

    def flag(self, name: str) -> list[str]:
        return [value for flag, value in self.flags if flag == name]

    @property
    def health_port(self) -> int:
        """The proxy answers /healthz and /metrics on its admin listener; every other service on its port."""
        admin = self.flag("--admin")
        return port_of(admin[0]) if admin else self.port

    @property
    def blocking(self) -> bool:
        return self.binary == "cityscape-gateway" and self.flag("--mode") == ["blocking"]


def parse_stack(text: str) -> list[Entry]:
    """Parses stack.conf: `name binary port [--flag value]...` per line, `#` comments."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) < 3 or not words[2].isdigit():
            raise ValueError(f"stack.conf:{number}: expected `name binary port [flags]`, got {line!r}")
        flags = words[3:]
        if len(flags) % 2 or any(not flag.startswith("--") for flag in flags[::2]):
            raise ValueError(f"stack.conf:{number}: flags must be `--flag value` pairs, got {' '.join(flags)!r}")
        entries.append(Entry(words[0], words[1], int(words[2]), list(zip(flags[::2], flags[1::2]))))
    return entries


def read_stack(root: Path = ROOT) -> list[Entry]:
    """The entries of `root`/deploy/stack.conf."""
    return parse_stack((Path(root) / "deploy" / "stack.conf").read_text())


def port_of(address: str) -> int:
    """`127.0.0.1:8010` (or `http://host:8010/`) -> 8010."""
    return int(address.rsplit(":", 1)[1].rstrip("/"))

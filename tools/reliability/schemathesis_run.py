"""Fuzzes location, sun and gateway with schemathesis, each from the document it serves itself.

Every check schemathesis has (`--checks all`) and every phase: examples, coverage (each parameter's
edges, undeclared methods such as QUERY), fuzzing and stateful (where the document has links). So
besides "no 5xx" and "the answer is documented", a schema-valid request must be accepted, a
schema-invalid one rejected, and an undeclared method answered 405 with `Allow`: the documents say
exactly what the services accept. The gateway runs with a real location and sun behind it.

Bounded so it fits `make test`: fixed seed, a fixed number of examples per operation, the three
services fuzzed at once (schemathesis waits on the network most of the time), and each run stopped
after --time-limit seconds (a failure). Any failure fails the run; nothing is excluded.

Usage (from the repository root): python3 -m tools.reliability.schemathesis_run [--bin-dir DIR] [--examples N] [--seed S] [--time-limit SECONDS]
"""
import argparse
import os
import re
import subprocess
import sys
import time

from tools.cityscape_tools.harness import ROOT, Stack, default_bin_dir

def command(st, url, examples, seed):
    return [
        st, "run", f"{url}/openapi.json", "--url", url,
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(examples), "--seed", str(seed),
        "--generation-database", "none", "--request-timeout", "10",
        "--workers", "2", "--no-color", "--warnings", "off",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=None)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--time-limit", type=float, default=300, help="seconds each service's run may take")
    parser.add_argument("--st", default=os.path.join(ROOT, ".venv-tools", "bin", "st"))
    args = parser.parse_args()
    bin_dir = args.bin_dir or default_bin_dir()
    started = time.monotonic()
    failed = False
    with Stack(bin_dir) as stack:
        location = stack.start("cityscape-location")
        sun = stack.start("cityscape-sun")
        gateway = stack.start("cityscape-gateway", "--location-url", location.url, "--sun-url", sun.url, "--upstream-timeout", "5s")
        runs = {}
        for name, service in [("location", location), ("sun", sun), ("gateway", gateway)]:
            log = open(os.path.join(ROOT, ".build", f"schemathesis-{name}.log"), "w")
            runs[name] = (subprocess.Popen(command(args.st, service.url, args.examples, args.seed), stdout=log, stderr=subprocess.STDOUT), log)
        deadline = time.monotonic() + args.time_limit
        for name, (proc, log) in runs.items():
            try:
                proc.wait(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                print(f"schemathesis {name}: stopped after {args.time_limit:.0f} s")
                failed = True
            log.close()
            text = open(log.name).read()
            counts = re.search(r"(\d+) generated, (.*)", text)
            summary = counts.group(0) if counts else "no summary"
            print(f"schemathesis {name}: {summary} (exit {proc.returncode}; log {os.path.relpath(log.name, ROOT)})")
            if proc.returncode != 0:
                failed = True
                print(text[-6000:])
        for service in stack.services:
            if not service.alive():
                failed = True
                print(f"{service.binary} died during fuzzing:\n{service.output()[-2000:]}")
    print(f"schemathesis: {'FAILED' if failed else 'ok'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

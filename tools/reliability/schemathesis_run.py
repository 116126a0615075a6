#!/usr/bin/env python3
"""Fuzzes location, sun and gateway with schemathesis, each from the document it serves itself.

Bounded so it fits `make test`: fixed seed, stateful phase off, a fixed number of examples per
operation, the three services fuzzed at once (schemathesis waits on the network most of the time).
Checks: no 5xx, status documented, content type documented, body valid against its schema,
documented headers present and valid. Any failure fails the run; nothing is excluded.

Usage: schemathesis_run.py [--bin-dir DIR] [--examples N] [--seed S]
"""
import argparse
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from procs import Stack, default_bin_dir  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance"


def command(st, url, examples, seed):
    return [
        st, "run", f"{url}/openapi.json", "--url", url,
        "--checks", CHECKS,
        "--phases", "examples,coverage,fuzzing",
        "--max-examples", str(examples), "--seed", str(seed),
        "--generation-database", "none", "--request-timeout", "10",
        "--workers", "2", "--no-color", "--warnings", "off",
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=None)
    parser.add_argument("--examples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--st", default=os.path.join(ROOT, ".venv-fuzz", "bin", "st"))
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
        for name, (proc, log) in runs.items():
            proc.wait()
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

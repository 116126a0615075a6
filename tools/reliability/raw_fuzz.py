"""Raw-socket fuzzing of every Cityscape HTTP listener with a corpus plus seeded mutations.

Listeners: location, sun, gateway (async, wired to both), proxy (to the gateway) and the proxy's
admin listener. Each case is sent byte for byte on a fresh connection, then the write side is shut
(so a server waiting for more bytes sees EOF), and the reply is read to EOF. A case passes when the
server answers only non-5xx statuses or closes the connection, within CASE_TIMEOUT. After all cases:
every process is still running, answers GET /healthz, and its RSS grew by less than RSS_GROWTH_KIB.

Why Python and not a Swift test: the cases are bytes no HTTP client would send, a raw socket is
three lines here, and the same process helpers drive the fault-injection and soak tools.

Usage (from the repository root): python3 -m tools.reliability.raw_fuzz [--bin-dir DIR] [--mutations N] [--seed S]
"""
import argparse
import errno
import concurrent.futures
import os
import random
import re
import socket
import sys
import time

from tools.cityscape_tools.harness import ROOT, Stack, default_bin_dir, free_port, wait_healthy_url

CORPUS = os.path.join(ROOT, "Tests", "HTTPFuzzCorpus")
CASE_TIMEOUT = 5.0
RSS_GROWTH_KIB = 64 * 1024
STATUS = re.compile(rb"HTTP/1\.[01] (\d{3})")
REPEAT = re.compile(r"\$\{(.*?)\*(\d+)\}", re.S)


def decode(line):
    """A corpus line → bytes: `${TEXT*N}` repeats, then Python escapes (\\r \\n \\xNN ...)."""
    line = REPEAT.sub(lambda m: m.group(1) * int(m.group(2)), line)
    return line.encode("latin-1").decode("unicode_escape").encode("latin-1")


def load_corpus():
    cases = {}
    for name in sorted(os.listdir(CORPUS)):
        if name.endswith(".req"):
            with open(os.path.join(CORPUS, name), encoding="utf-8") as f:
                cases[name[:-4]] = decode(f.readline().rstrip("\n"))
    return cases


def mutate(rng, data, corpus):
    """One random mutation of `data`; every choice comes from `rng`, so a seed reproduces the run."""
    data = bytearray(data)
    kind = rng.randrange(9)
    position = rng.randrange(len(data) + 1)
    if kind == 0 and data:  # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1:  # insert random bytes
        data[position:position] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    elif kind == 2 and data:  # delete a range
        del data[position:position + rng.randint(1, 32)]
    elif kind == 3:  # truncate
        del data[position:]
    elif kind == 4:  # CRLF → LF or CR
        data = bytearray(bytes(data).replace(b"\r\n", rng.choice([b"\n", b"\r", b"\r\r\n", b"\n\r"])))
    elif kind == 5:  # a long run of one byte
        data[position:position] = bytes([rng.choice(b"A/%\x00 :\r\n\t")]) * rng.choice([100, 5000, 70000])
    elif kind == 6:  # splice two corpus cases
        other = rng.choice(corpus)
        data = data[:position] + other[rng.randrange(len(other) + 1):]
    elif kind == 7:  # duplicate a header line
        lines = bytes(data).split(b"\r\n")
        if len(lines) > 2:
            line = lines[rng.randrange(1, len(lines) - 1)]
            lines[1:1] = [line] * rng.randint(1, 200)
        data = bytearray(b"\r\n".join(lines))
    else:  # swap in a hostile token
        token = rng.choice([b"-1", b"99999999999999999999", b"chunked", b"\xff\xfe", b"%00", b"../", b"HTTP/1.1", b"\r\n\r\n"])
        data[position:position] = token
    return bytes(data)


def send_case(port, payload):
    """Returns (outcome, detail): outcome is 'ok', '5xx', 'hang' or 'error'."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=CASE_TIMEOUT) as s:
            try:
                s.sendall(payload)
                s.shutdown(socket.SHUT_WR)
            except (BrokenPipeError, ConnectionResetError):
                return "ok", "closed while sending"
            except socket.timeout:
                # The server stopped reading (after a 400 for an oversized head it answers and closes
                # without draining); fine if it has answered or closes, checked below with a fresh budget.
                pass
            except OSError as error:
                # ENOTCONN from shutdown(): the server had already answered and reset the connection (it
                # closes after a 400 without draining what is still coming). Closed, which is what we want.
                if error.errno != errno.ENOTCONN:
                    raise
                return "ok", "closed while sending"
            started = time.monotonic()
            received = b""
            while True:
                remaining = CASE_TIMEOUT - (time.monotonic() - started)
                if remaining <= 0:
                    return "hang", f"no EOF after {CASE_TIMEOUT}s ({len(received)} bytes received)"
                s.settimeout(remaining)
                try:
                    chunk = s.recv(65536)
                except ConnectionResetError:
                    break
                except socket.timeout:
                    return "hang", f"no EOF after {CASE_TIMEOUT}s ({len(received)} bytes received)"
                if not chunk:
                    break
                received += chunk
    except ConnectionRefusedError:
        return "error", "connection refused (process down?)"
    statuses = [int(m) for m in STATUS.findall(received)]
    if received and not statuses:
        return "error", f"reply is not HTTP: {received[:80]!r}"
    if any(status >= 500 for status in statuses):
        return "5xx", f"statuses {statuses[:10]}"
    return "ok", f"statuses {statuses[:5]}" if statuses else "closed"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin-dir", default=None)
    parser.add_argument("--mutations", type=int, default=1000, help="mutated cases per listener")
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    corpus = load_corpus()
    corpus_bytes = list(corpus.values())
    rng = random.Random(args.seed)
    mutated = [(f"mutation-{i}", mutate(rng, rng.choice(corpus_bytes), corpus_bytes)) for i in range(args.mutations)]
    cases = list(corpus.items()) + mutated
    started = time.monotonic()
    failures = []
    with Stack(args.bin_dir or default_bin_dir()) as stack:
        location = stack.start("cityscape-location")
        sun = stack.start("cityscape-sun")
        gateway = stack.start("cityscape-gateway", "--location-url", location.url, "--sun-url", sun.url)
        admin_port = free_port()
        proxy = stack.start("cityscape-proxy", "--backend", f"127.0.0.1:{gateway.port}", "--admin", f"127.0.0.1:{admin_port}")
        listeners = [("location", location, location.port), ("sun", sun, sun.port), ("gateway", gateway, gateway.port),
                     ("proxy", proxy, proxy.port), ("proxy-admin", proxy, admin_port)]
        assert wait_healthy_url(f"http://127.0.0.1:{admin_port}"), "proxy admin listener not healthy"
        for name, service, port in listeners:
            rss_before = service.rss_kib()
            outcomes = {}
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                results = pool.map(lambda case: (case[0], send_case(port, case[1])), cases)
                for case_name, (outcome, detail) in results:
                    outcomes[outcome] = outcomes.get(outcome, 0) + 1
                    if outcome != "ok":
                        failures.append(f"{name} {case_name}: {outcome}: {detail}")
            healthy = service.alive() and wait_healthy_url(f"http://127.0.0.1:{port}", timeout=5)
            growth = (service.rss_kib() or 0) - (rss_before or 0)
            if not healthy:
                failures.append(f"{name}: not healthy after fuzzing; log {service.log.name}")
            if growth > RSS_GROWTH_KIB:
                failures.append(f"{name}: RSS grew {growth} KiB")
            print(f"raw fuzz {name}: {len(cases)} cases ({len(corpus)} corpus + {len(mutated)} mutations), "
                  f"outcomes {outcomes}, RSS {rss_before} → {service.rss_kib()} KiB, healthy {healthy}")
    for failure in failures[:60]:
        print("  FAIL", failure)
    print(f"raw fuzz: {'FAILED (' + str(len(failures)) + ')' if failures else 'ok'} in {time.monotonic() - started:.0f} s")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

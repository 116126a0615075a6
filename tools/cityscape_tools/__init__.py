"""The one Python toolkit every Cityscape benchmark, demo, fault and deploy check shares.

  harness  free loopback ports; start our binaries and peers on them, wait until they answer, stop by PID
  procs    /proc sampling: CPU seconds, RSS, threads, open fds, children, listening port, load average
  wrk      run wrk and parse its output
  charts   the one SVG writer: grouped bar panels, time-series line panels, the shared SVG frame
  results  the JSON + Markdown pair a run leaves in results/, and the small maths of its tables
  load     steady closed-loop HTTP load from threads (faults, soak)

Nothing is installed: every script runs as a module from the repository root, e.g.
`python3 -m bench.demo .build/release`, so `tools.cityscape_tools` is importable in any interpreter or venv
(tests: `python3 -m unittest discover -s tools/cityscape_tools/tests -t .`). Standard library only.
"""

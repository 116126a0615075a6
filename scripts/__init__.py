"""Shell scripts of the stack (run, start/stop) and their tests; scripts/tests runs with python3 -m unittest from the root."""

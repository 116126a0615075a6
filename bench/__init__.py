"""Benchmarks and the lab (make bench, make demo, ...); run each as a module from the repository root: python3 -m bench.demo."""

"""Benchmarks (`make bench-*`); results go to docs/benchmarks/."""

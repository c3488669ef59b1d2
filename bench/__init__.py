"""Benchmark suite: `make bench` (see bench/README.md)."""

"""Pieces of the benchmark harness; ``benchmarks/run.py`` is the entry point."""

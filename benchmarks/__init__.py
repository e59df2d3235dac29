"""Reproducible speed measurements: ``python -m benchmarks`` (see the README)."""

"""Benchmarks, run from the repository root as modules (``python -m benchmarks.NAME``).

The harness (``protocol``, ``run_benchmark``, ``systems``, ``report``, ``synthetic_suite``,
``stress_report``) runs any system on a suite by ../shared/BENCHMARK.md's protocol; the one-off
studies behind the constants and claims in the code are in ``benchmarks.studies``.
``benchmarks/README.md`` lists every script and what it measured.
"""

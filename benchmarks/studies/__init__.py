"""One-off studies (``python -m benchmarks.studies.NAME``), each behind a constant or a claim in
the code or the README; their figures are in ``benchmarks/results/``."""

"""What a user asks next (issue 26): interval and set coverage on held-out rows, and what
permutation importance costs.

Per dev table (BENCHMARK.md split, seed 0), one default fit at --time-limit, then on the test part:
- regression: empirical coverage and mean width of ``predict_interval(coverage=0.9)``, beside the
  non-adaptive conformal interval from the same OOF residuals (every interval one width);
- classification: coverage and mean size of ``predict_set(coverage=0.9)``;
- on --importance tables: seconds of ``feature_importance()`` (training rows, 5 repeats).
Rows are appended as each table finishes; a rerun skips the tables already in --out.

    python -m benchmarks.studies.insight --time-limit 120 --tasks regression --importance diamonds \\
        --out benchmarks/results/intervals.csv
    python -m benchmarks.studies.insight --time-limit 60 --tasks binary,multiclass --importance adult \\
        --out benchmarks/results/sets.csv
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from automl import AutoMLClassifier, AutoMLRegressor
from automl.conformal import RegressionConformal

from ..protocol import DEV, append_row, load_dataset, pending, split

COLUMNS = ["dataset", "task", "coverage", "mean_width", "flat_coverage", "flat_mean_width", "width_ratio",
           "set_coverage", "set_mean_size", "importance_seconds", "fit_seconds", "time_limit"]
COVERAGE = 0.9


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--tasks", default="regression", help="comma-separated: binary, multiclass, regression")
    ap.add_argument("--importance", default="", help="comma-separated tables whose importance is timed")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    for entry in pending(DEV, args.out):
        if entry["task"] not in args.tasks.split(","):
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        regression = entry["task"] == "regression"
        estimator = AutoMLRegressor if regression else AutoMLClassifier
        start = time.perf_counter()
        model = estimator(time_limit=args.time_limit, verbosity=0, random_state=0).fit(X_train, y_train)
        row = {"dataset": entry["name"], "task": entry["task"], "fit_seconds": time.perf_counter() - start,
               "time_limit": args.time_limit}
        if regression:
            truth = y_test.to_numpy(dtype=float)
            row.update(_coverage("", model.predict_interval(X_test, COVERAGE), truth))
            row.update(_coverage("flat_", _flat_interval(model, X_test), truth))
            row["width_ratio"] = row["mean_width"] / row["flat_mean_width"]
        else:
            sets = model.predict_set(X_test, COVERAGE)
            truth = model.label_codec_.encode(pd.Series(y_test.to_numpy()))
            row.update(set_coverage=sets[np.arange(len(truth)), truth].mean(), set_mean_size=sets.sum(axis=1).mean())
        if entry["name"] in args.importance.split(","):
            start = time.perf_counter()
            model.feature_importance()
            row["importance_seconds"] = time.perf_counter() - start
        append_row(args.out, row, COLUMNS)
        print(entry["name"], {k: v for k, v in row.items() if isinstance(v, float)}, flush=True)
    print(pd.read_csv(args.out).to_string(index=False))


def _flat_interval(model, X_test) -> np.ndarray:
    """The non-adaptive conformal interval from the same fit's OOF residuals."""
    store = model.store_
    honest = model.ensemble_.predict_oof(store.oof, store.features)[:, 0]
    flat = RegressionConformal().fit(store.features, store.y, honest, store.fold_of, store.groups, adaptive=False)
    features = model._encode(X_test)
    return flat.interval(model._uncertain_value(features), features, COVERAGE)


def _coverage(prefix: str, interval: np.ndarray, truth: np.ndarray) -> dict:
    return {f"{prefix}coverage": float(np.mean((interval[:, 0] <= truth) & (truth <= interval[:, 1]))),
            f"{prefix}mean_width": float(np.mean(interval[:, 1] - interval[:, 0]))}


if __name__ == "__main__":
    main()

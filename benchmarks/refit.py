"""Refitted members against fold copies, from one fit per dataset (issue 12).

Per dev dataset (BENCHMARK.md split, seed 0): one default fit with ``refit=True`` at --time-limit;
then the test part is predicted twice by the same ensemble: with the refitted members, and with
their fold copies (the refitted copies set aside). Per dataset: test metric and predict seconds
(median of 3) of both, the refit's seconds and its share of the limit, and single-row latency
(median and 99th percentile of --latency-calls calls) of the refitted ensemble. Rows are appended
as each dataset finishes; a rerun skips the datasets already in --out.

    python benchmarks/refit.py --time-limit 120 --out benchmarks/results/refit.csv
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from protocol import append_row, load_dataset, pending, score, sorted_classes, split  # noqa: E402

from automl import AutoMLClassifier, AutoMLRegressor  # noqa: E402

SUITE = Path(__file__).resolve().parents[1] / ".." / "shared" / "datasets" / "dev"
COLUMNS = ["dataset", "task", "time_limit", "fit_seconds", "members", "refitted", "refit_seconds", "refit_share",
           "metric", "bagged_metric", "refit_metric", "relative_change", "bagged_predict_seconds",
           "refit_predict_seconds", "speedup", "single_row_median_ms", "single_row_p99_ms"]


def predict_and_score(model, entry, X_test, y_test, classes) -> tuple[float, float]:
    """(test metric, median seconds of 3 predict calls on the test part)."""
    seconds, output = [], None
    for _ in range(3):
        start = time.perf_counter()
        output = model.predict(X_test) if entry["task"] == "regression" else model.predict_proba(X_test)
        seconds.append(time.perf_counter() - start)
    if entry["task"] == "regression":
        value = score("regression", y_test, None, pred=output)["value"]
    else:
        value = score(entry["task"], y_test, classes, proba=output, proba_classes=list(model.classes_),
                      pred=model.classes_[np.argmax(output, axis=1)])["value"]
    return value, statistics.median(seconds)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=120.0)
    ap.add_argument("--datasets", default="", help="comma-separated names (default: the whole dev suite)")
    ap.add_argument("--latency-calls", type=int, default=200)
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/refit.csv"))
    args = ap.parse_args()
    for entry in pending(SUITE, args.out, args.datasets):
        X, y = load_dataset(SUITE, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        classes = sorted_classes(y) if entry["task"] != "regression" else None
        estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
        model = estimator(time_limit=args.time_limit, refit=True, random_state=0, verbosity=0).fit(X_train, y_train)
        refit_metric, refit_seconds = predict_and_score(model, entry, X_test, y_test, classes)
        latencies = []
        for i in range(args.latency_calls):
            row = X_test.iloc[[i % len(X_test)]]
            start = time.perf_counter()
            model.predict(row)
            latencies.append(time.perf_counter() - start)
        members = [model.records_[j].name for j in model.ensemble_.used_models]
        for name in members:  # the same ensemble, predicting with the fold copies
            model.models_[name].full_ = None
        bagged_metric, bagged_seconds = predict_and_score(model, entry, X_test, y_test, classes)
        shutil.rmtree(model.run_dir_, ignore_errors=True)
        row = {"dataset": entry["name"], "task": entry["task"], "time_limit": args.time_limit,
               "fit_seconds": round(model.fit_seconds_, 1), "members": len(members),
               "refitted": len(model.refitted_), "refit_seconds": round(model.refit_seconds_, 2),
               "refit_share": round(model.refit_seconds_ / args.time_limit, 4), "metric": model.metric_,
               "bagged_metric": bagged_metric, "refit_metric": refit_metric,
               "relative_change": (refit_metric - bagged_metric) / abs(bagged_metric),
               "bagged_predict_seconds": round(bagged_seconds, 4), "refit_predict_seconds": round(refit_seconds, 4),
               "speedup": round(bagged_seconds / refit_seconds, 2),
               "single_row_median_ms": round(1000 * statistics.median(latencies), 2),
               "single_row_p99_ms": round(1000 * float(np.percentile(latencies, 99)), 2)}
        append_row(args.out, row, COLUMNS)
        print(row, flush=True)


if __name__ == "__main__":
    main()

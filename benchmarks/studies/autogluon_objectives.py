"""AutoGluon best_quality on the dev tables with the metrics of ``studies/objectives.py metrics``
(issue 25's peer): ``eval_metric="f1"`` on the binary tables, ``balanced_accuracy`` on the
multiclass ones, ``mean_absolute_error`` on the regressions (--tasks).

Runs in the peers' environment (``benchmarks/README.md``: it imports neither automl nor its
dependencies beyond pandas and scikit-learn). Same split as ``studies/objectives.py metrics``
(BENCHMARK.md, seed 0); the positive class is the last sorted label (the protocol's rule), which
AutoGluon is given; ``calibrate_decision_threshold=True`` tunes its threshold for F1 on its own
validation data (binary only). Rows are appended per table; a rerun skips what is in --out.

    /work/peers-venv/bin/python -m benchmarks.studies.autogluon_objectives --time-limit 60 \\
        --out benchmarks/results/metrics_autogluon.csv
"""
from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
import time
from pathlib import Path

from sklearn.metrics import balanced_accuracy_score, f1_score, mean_absolute_error

from ..protocol import DEV, append_row, load_dataset, read_manifest, sorted_classes, split

COLUMNS = ["dataset", "system", "metric", "test", "test_default_threshold", "threshold", "fit_seconds", "time_limit"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--tasks", default="binary", help="comma-separated: binary, multiclass, regression")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from autogluon.tabular import TabularPredictor

    done = set()
    if args.out.exists():
        with open(args.out) as f:
            done = {r["dataset"] for r in csv.DictReader(f)}
    for entry in read_manifest(DEV):
        if entry["task"] not in args.tasks.split(",") or entry["name"] in done:
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, entry["task"], seed=0)
        label, folder = entry["target"], tempfile.mkdtemp(prefix="ag-")
        try:
            row = {"dataset": entry["name"], "system": "autogluon_best", "time_limit": args.time_limit}
            binary = entry["task"] == "binary"
            metric = {"binary": "f1", "multiclass": "balanced_accuracy", "regression": "mean_absolute_error"}[
                entry["task"]]
            extra = {"positive_class": sorted_classes(y)[-1]} if binary else {}
            predictor = TabularPredictor(label, problem_type=entry["task"], eval_metric=metric, path=folder,
                                         verbosity=0, **extra)
            start = time.perf_counter()
            predictor.fit(X_train.assign(**{label: y_train}), time_limit=args.time_limit, presets="best_quality",
                          **({"calibrate_decision_threshold": True} if binary else {}))
            row["fit_seconds"] = time.perf_counter() - start
            predicted = predictor.predict(X_test)
            if binary:
                positive = extra["positive_class"]
                truth = (y_test == positive).astype(int)
                proba = predictor.predict_proba(X_test)[positive]
                row.update(metric="f1", test=f1_score(truth, (predicted == positive).astype(int)),
                           test_default_threshold=f1_score(truth, (proba >= 0.5).astype(int)),
                           threshold=predictor.decision_threshold)
            elif entry["task"] == "multiclass":
                row.update(metric="balanced_accuracy", test=balanced_accuracy_score(y_test, predicted))
            else:
                row.update(metric="mae", test=mean_absolute_error(y_test, predicted))
            append_row(args.out, row, COLUMNS)
            print(entry["name"], flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

if __name__ == "__main__":
    main()

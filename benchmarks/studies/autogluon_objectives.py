"""AutoGluon best_quality on the binary dev tables with ``eval_metric="f1"`` (issue 25's peer).

Runs in the peers' environment (``benchmarks/README.md``: it imports neither automl nor its
dependencies beyond pandas and scikit-learn). Same split as ``studies/objectives.py metrics``
(BENCHMARK.md, seed 0); the positive class is the last sorted label (the protocol's rule), which
AutoGluon is given; ``calibrate_decision_threshold=True`` tunes its threshold for F1 on its own
validation data. Rows are appended per table; a rerun skips what is in --out.

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

from sklearn.metrics import f1_score

from ..protocol import DEV, append_row, load_dataset, read_manifest, sorted_classes, split

COLUMNS = ["dataset", "system", "metric", "test", "test_default_threshold", "threshold", "fit_seconds", "time_limit"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from autogluon.tabular import TabularPredictor

    done = set()
    if args.out.exists():
        with open(args.out) as f:
            done = {r["dataset"] for r in csv.DictReader(f)}
    for entry in read_manifest(DEV):
        if entry["task"] != "binary" or entry["name"] in done:
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, "binary", seed=0)
        positive = sorted_classes(y)[-1]
        label = entry["target"]
        folder = tempfile.mkdtemp(prefix="ag-")
        try:
            predictor = TabularPredictor(label, problem_type="binary", eval_metric="f1", positive_class=positive,
                                         path=folder, verbosity=0)
            start = time.perf_counter()
            predictor.fit(X_train.assign(**{label: y_train}), time_limit=args.time_limit, presets="best_quality",
                          calibrate_decision_threshold=True)
            seconds = time.perf_counter() - start
            truth = (y_test == positive).astype(int)
            tuned = (predictor.predict(X_test) == positive).astype(int)
            proba = predictor.predict_proba(X_test)[positive]
            append_row(args.out, {"dataset": entry["name"], "system": "autogluon_best", "metric": "f1",
                                  "test": f1_score(truth, tuned), "test_default_threshold": f1_score(
                                      truth, (proba >= 0.5).astype(int)),
                                  "threshold": predictor.decision_threshold, "fit_seconds": seconds,
                                  "time_limit": args.time_limit}, COLUMNS)
            print(entry["name"], flush=True)
        finally:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()

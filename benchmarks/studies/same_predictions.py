"""Behaviour unchanged by a refactor: fully determined fits predict the same before and after.

Per dev table in --datasets (BENCHMARK.md split, seed 0, training rows capped at --max-rows), one
fit with no time limit, three fixed families and 3 folds (so nothing depends on the clock), then the
ensemble's raw output for the test part (probabilities before any calibration, or values). Run it
on two checkouts and compare:

    PYTHONPATH=/path/to/old/checkout python -m benchmarks.studies.same_predictions --out before.npz
    python -m benchmarks.studies.same_predictions --out after.npz --compare before.npz

``--compare`` prints, per table, the largest absolute difference and whether the chosen ensembles
are the same.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..protocol import DEV, load_dataset, read_manifest, split

DATASETS = "titanic,penguins,car_evaluation,197_cpu_act"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", default=DATASETS)
    ap.add_argument("--max-rows", type=int, default=3000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--compare", type=Path)
    args = ap.parse_args()
    from automl import AutoMLClassifier, AutoMLRegressor

    results, described = {}, {}
    for entry in read_manifest(DEV):
        if entry["name"] not in args.datasets.split(","):
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, _ = split(X, y, entry["task"], seed=0)
        X_train, y_train = X_train.iloc[:args.max_rows], y_train.iloc[:args.max_rows]
        estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
        model = estimator(time_limit=None, models=["lightgbm", "linear", "knn"], n_folds=3, random_state=0,
                          verbosity=0, refit=False).fit(X_train, y_train)
        results[entry["name"]] = model._predict_raw(X_test)
        described[entry["name"]] = model.ensemble_.describe()
        print(entry["name"], described[entry["name"]], flush=True)
    np.savez(args.out, **results)
    args.out.with_suffix(".json").write_text(json.dumps(described, indent=1))
    if args.compare:
        before = np.load(args.compare)
        before_described = json.loads(args.compare.with_suffix(".json").read_text())
        for name, after in results.items():
            print(f"{name:>16}: max |after - before| = {np.abs(after - before[name]).max():.3g}; ensemble "
                  f"{'same' if described[name] == before_described[name] else 'differs'} ({described[name]})")


if __name__ == "__main__":
    main()

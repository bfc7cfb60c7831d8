"""A real user's table and objective (issue 25): groups, and a decision tuned for a label metric.

``groups``: per table of ``../shared/datasets/grouped`` (each names its group column), the test
part is unseen groups (``GroupShuffleSplit``, 25%, seed 0); the group column is left out of the
features in both fits, which differ only in ``groups=``. Per fit: the chosen ensemble's OOF score
and test score in the fit's metric (RMSE, or log loss for the multiclass table) and the optimism
``(test - OOF) / test`` of a loss (positive: the OOF score promised more than unseen groups got).

``f1``: per binary dev table (BENCHMARK.md split, seed 0), one fit with ``metric="f1"``; the test
F1 of ``predict`` (the tuned threshold, where one was kept) beside the F1 of the same
probabilities at argmax (0.5), and the threshold.

Rows are appended as each fit finishes; a rerun skips what is in --out.

    python -m benchmarks.studies.objectives groups --time-limit 60 --out benchmarks/results/groups.csv
    python -m benchmarks.studies.objectives f1 --time-limit 60 --out benchmarks/results/f1_threshold.csv
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupShuffleSplit

from automl import AutoMLClassifier, AutoMLRegressor

from ..protocol import DEV, SHARED, append_row, load_dataset, read_manifest, split

GROUPED = SHARED / "datasets" / "grouped"
GROUP_COLUMNS = ["dataset", "task", "groups_given", "metric", "n_folds", "oof", "test", "optimism", "ensemble",
                 "fit_seconds", "time_limit"]
F1_COLUMNS = ["dataset", "positive_share", "threshold", "f1_tuned", "f1_argmax", "oof_f1_tuned", "oof_f1_argmax",
              "win_probability", "fit_seconds", "time_limit"]


def _done(out: Path, key) -> set:
    return {key(r) for r in csv.DictReader(open(out))} if out.exists() else set()


def groups_study(time_limit: float, out: Path) -> None:
    done = _done(out, lambda r: (r["dataset"], r["groups_given"]))
    for entry in read_manifest(GROUPED):
        X, y = load_dataset(GROUPED, entry)
        groups = X.pop(entry["group"]).to_numpy()
        train, test = next(GroupShuffleSplit(n_splits=1, test_size=0.25, random_state=0).split(X, y, groups))
        for given in (False, True):
            if (entry["name"], str(given)) in done:
                continue
            estimator = AutoMLRegressor if entry["task"] == "regression" else AutoMLClassifier
            model = estimator(time_limit=time_limit, verbosity=0, random_state=0)
            start = time.perf_counter()
            model.fit(X.iloc[train], y.iloc[train], groups=groups[train] if given else None)
            seconds = time.perf_counter() - start
            if entry["task"] == "regression":
                prediction = model.predict(X.iloc[test])[:, None]
                y_test = y.iloc[test].to_numpy(dtype=float)
            else:
                prediction = model.predict_proba(X.iloc[test])
                y_test = model.label_codec_.encode(y.iloc[test])
            test_score = model.scorer_.score(y_test, prediction)
            oof = model.ensemble_score_
            append_row(out, {"dataset": entry["name"], "task": entry["task"], "groups_given": given,
                             "metric": model.metric_, "n_folds": int(model.store_.fold_of.max()) + 1, "oof": oof,
                             "test": test_score, "optimism": (test_score - oof) / test_score,
                             "ensemble": model.ensemble_.describe(), "fit_seconds": seconds,
                             "time_limit": time_limit}, GROUP_COLUMNS)
            print(entry["name"], given, f"OOF {oof:.4f} test {test_score:.4f}", flush=True)


def f1_study(time_limit: float, out: Path, datasets: str) -> None:
    done = _done(out, lambda r: r["dataset"])
    wanted = {d for d in datasets.split(",") if d}
    for entry in read_manifest(DEV):
        if entry["task"] != "binary" or entry["name"] in done or (wanted and entry["name"] not in wanted):
            continue
        X, y = load_dataset(DEV, entry)
        X_train, X_test, y_train, y_test = split(X, y, "binary", seed=0)
        model = AutoMLClassifier(time_limit=time_limit, metric="f1", verbosity=0, random_state=0)
        start = time.perf_counter()
        model.fit(X_train, y_train)
        seconds = time.perf_counter() - start
        positive = model.classes_[1]
        proba = model.predict_proba(X_test)
        truth = (y_test.to_numpy() == positive).astype(int)
        tuned = (model.predict(X_test) == positive).astype(int)
        report = model.decision_report_
        append_row(out, {"dataset": entry["name"], "positive_share": truth.mean(),
                         "threshold": model.decision_threshold_, "f1_tuned": f1_score(truth, tuned),
                         "f1_argmax": f1_score(truth, proba.argmax(axis=1)),
                         "oof_f1_tuned": report.get("tuned_score"), "oof_f1_argmax": report.get("argmax_score"),
                         "win_probability": report.get("win_probability"), "fit_seconds": seconds,
                         "time_limit": time_limit}, F1_COLUMNS)
        print(entry["name"], model.decision_threshold_, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("study", choices=["groups", "f1"])
    ap.add_argument("--time-limit", type=float, default=60.0)
    ap.add_argument("--datasets", default="", help="f1: comma-separated dev tables (default: every binary one)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    if args.study == "groups":
        groups_study(args.time_limit, args.out)
    else:
        f1_study(args.time_limit, args.out, args.datasets)
    print(pd.read_csv(args.out).to_string(index=False))


if __name__ == "__main__":
    main()

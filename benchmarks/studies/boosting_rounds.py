"""How many rounds the boosting families need: best round x learning rate, the constant behind
each boosting family's ``learning_mass`` (automl.models.boosting).

Fold 0 of an 8-fold plan per dev dataset, each family's default configuration, inner-split early
stopping (patience 50), no time limit; one CSV row per (dataset, family), resumable.

    python -m benchmarks.studies.boosting_rounds --out benchmarks/results/boosting_rounds.csv
"""
from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from .. import protocol
from automl.data.prepare import prepare
from automl.models.base import TaskInfo
from automl.models.registry import get_family
from automl.folds import FoldPlan, inner_split

DATASETS = ["titanic", "penguins", "car_evaluation", "segmentation", "kr_vs_kp", "spambase", "churn", "phoneme",
            "wine_quality_white", "satimage", "197_cpu_act", "225_puma8NH"]
FAMILIES = ["lightgbm", "xgboost", "catboost"]
COLUMNS = ["dataset", "family", "learning_rate", "rounds", "best_round", "learning_mass", "seconds"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=protocol.RESULTS / "boosting_rounds.csv")
    args = ap.parse_args()
    suite = protocol.DEV
    done = set()
    if args.out.exists():
        done = {(r["dataset"], r["family"]) for r in csv.DictReader(open(args.out))}
    entries = {e["name"]: e for e in protocol.read_manifest(suite)}
    for name in DATASETS:
        entry = entries[name]
        X, y = protocol.load_dataset(suite, entry)
        X_train, _, y_train, _ = protocol.split(X, y, entry["task"], 0)
        task = entry["task"]
        prepared = prepare(X_train, y_train, regression=task == "regression")
        table, target, info = prepared.data.X, prepared.data.y, TaskInfo(task, prepared.n_classes)
        train, _ = FoldPlan.make(target, 8, task, seed=0).split(0)
        fit_rows, val_rows = inner_split(target[train], task, seed=0)
        for family in FAMILIES:
            if (name, family) in done:
                continue
            cls = get_family(family)
            model = cls({}, info, seed=0, n_threads=1)
            start = time.perf_counter()
            model.fit(table.take(train[fit_rows]), target[train[fit_rows]], table.take(train[val_rows]),
                      target[train[val_rows]])
            rate = cls.defaults["learning_rate"]
            best = model.rounds_.best_iteration + 1
            row = {"dataset": name, "family": family, "learning_rate": rate, "rounds": model.rounds_.done,
                   "best_round": best, "learning_mass": round(best * rate, 2),
                   "seconds": round(time.perf_counter() - start, 2)}
            protocol.append_row(args.out, row, COLUMNS)
            print(row, flush=True)
    rows = list(csv.DictReader(open(args.out)))
    for family in FAMILIES:
        masses = [float(r["learning_mass"]) for r in rows if r["family"] == family]
        print(f"{family}: median best round x learning rate {np.median(masses):.1f} "
              f"(quartiles {np.percentile(masses, 25):.1f}-{np.percentile(masses, 75):.1f}, {len(masses)} datasets)")


if __name__ == "__main__":
    main()

"""Fold-parallel bagging: seconds to bag a model on one thread against all threads.

    flock /tmp/bench.lock python -m benchmarks.studies.fold_parallel --dataset segmentation

For each family, BaggedModel fits the default configuration on the dataset's benchmark training
part with 8 folds and no time limit, first with ``n_threads=1`` (folds one after another), then
with every core (``bagging.thread_plan`` decides: folds at once on small tables, a model's own
threads on large ones); the OOF predictions must be identical. Repeats alternate the two, and the
medians and their ratio go to benchmarks/results/fold_parallel.csv.
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from automl.data.training import TrainingData
from ..protocol import RESULTS
from .tabm_data import load_encoded

from automl.budget import TimeBudget
from automl.models.bagging import BaggedModel, thread_plan
from automl.models.base import ModelConfig
from automl.models.registry import get_family
from automl.folds import FoldPlan



def bag_seconds(data, plan, family: str, n_threads: int) -> tuple[float, np.ndarray]:
    model = BaggedModel(ModelConfig(family, family, {}), data.info, seed=0, n_threads=n_threads)
    start = time.perf_counter()
    oof = model.fit(TrainingData(data.X_train, data.y_train), plan, TimeBudget(None))
    return time.perf_counter() - start, oof


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="segmentation")
    ap.add_argument("--families", default="lightgbm,xgboost,random_forest,extra_trees")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", type=Path, default=RESULTS / "fold_parallel.csv")
    args = ap.parse_args(argv)
    data = load_encoded(args.dataset)
    plan = FoldPlan.make(data.y_train, 8, data.info.task, seed=0)
    cores = os.cpu_count() or 1
    rows = []
    for family in args.families.split(","):
        bag_seconds(data, plan, family, 1)  # warm-up: imports and first-call allocations
        times = {1: [], cores: []}
        for _ in range(args.repeats):
            for n_threads in times:
                seconds, oof = bag_seconds(data, plan, family, n_threads)
                times[n_threads].append(seconds)
                if n_threads == 1:
                    reference = oof
                elif not np.array_equal(oof, reference):
                    sys.exit(f"{family}: OOF predictions differ between 1 and {cores} threads")
        workers, threads = thread_plan(cores, len(data.y_train) * data.X_train.n_features,
                                       get_family(family).parallel_folds, plan.n_folds)
        one, all_ = statistics.median(times[1]), statistics.median(times[cores])
        rows.append({"date": dt.date.today().isoformat(), "dataset": args.dataset, "rows": len(data.y_train),
                     "family": family, "cores": cores, "folds_at_once": workers, "threads_per_fold": threads,
                     "repeats": args.repeats, "median_s_one_thread": round(one, 3),
                     "median_s_all_cores": round(all_, 3), "speedup": round(one / all_, 2)})
        print(rows[-1], flush=True)
    new = not args.out.exists()
    with open(args.out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        if new:
            writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

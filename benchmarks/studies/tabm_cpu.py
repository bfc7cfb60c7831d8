"""TabM on the CPU: epoch time of the CPU variant against the full model, and the honest-OOF gap.

    # seconds per epoch: the full model (DEFAULTS) vs the CPU variant (CPU_DEFAULTS), one dataset
    flock /tmp/bench.lock python -m benchmarks.studies.tabm_cpu epochs --dataset 197_cpu_act

    # OOF score vs test score when early stopping uses an inner split of the training folds (ours)
    # or the OOF fold itself (AutoGluon's way), on a few datasets
    flock /tmp/bench.lock python -m benchmarks.studies.tabm_cpu oof-gap --datasets phoneme,wine_quality_white,225_puma8NH

Each command appends rows to a CSV in benchmarks/results/ (see --out).
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import os
import sys
import time
from pathlib import Path

import numpy as np

from ..protocol import RESULTS
from .tabm_data import load_encoded

from automl.budget import TimeBudget
from automl.models.tabm import CPU_DEFAULTS, CPU_OPTIONS, DEFAULTS, OPTIONS, TabMModel, batch_size_for
from automl.folds import FoldPlan, inner_split



def measure_epochs(name: str, n_epochs: int, n_threads: int) -> list[dict]:
    """Trains each variant for ``n_epochs`` epochs (no early stopping) and reports its epoch seconds.

    ``cpu_one_thread`` is the CPU variant held to one thread, to tell the effect of the smaller
    network from the effect of the thread count.
    """
    data = load_encoded(name)
    fit_rows, val_rows = inner_split(data.y_train, data.info.task, seed=0)
    rows = []
    variants = (("full", DEFAULTS, OPTIONS), ("cpu", CPU_DEFAULTS, CPU_OPTIONS),
                ("cpu_one_thread", CPU_DEFAULTS, {**CPU_OPTIONS, "max_threads": 1}))
    for variant, params, options in variants:
        model = TabMModel({**params, "max_epochs": n_epochs}, data.info, seed=0, n_threads=n_threads, device="cpu",
                          options={**options, "min_epochs": 0})
        model.fit(data.X_train.take(fit_rows), data.y_train[fit_rows], data.X_train.take(val_rows),
                  data.y_train[val_rows])
        seconds = [h["seconds"] for h in model.history_]
        n_fit = min(len(fit_rows), options["max_train_rows"] or len(fit_rows))
        rows.append({"dataset": name, "variant": variant, "k": params["k"], "d_block": params["d_block"],
                     "n_blocks": params["n_blocks"], "fit_rows": n_fit, "features": data.X_train.n_features,
                     "batch_size": batch_size_for(n_fit), "threads": model.threads_, "epochs": len(seconds),
                     "median_epoch_seconds": float(np.median(seconds)),
                     "train_rows_per_second": n_fit / float(np.median(seconds)),
                     "val_loss_after": model.history_[-1]["val_loss"]})
        print(rows[-1], flush=True)
    return rows


def measure_oof_gap(name: str, n_folds: int, fold_seconds: float, n_threads: int) -> list[dict]:
    """Bags TabM over ``n_folds`` folds twice: early stopping on an inner split, and on the OOF fold."""
    data = load_encoded(name)
    plan = FoldPlan.make(data.y_train, n_folds, data.info.task, seed=0)
    rows = []
    for stopping in ("inner_split", "oof_fold"):
        oof = np.zeros((len(data.y_train), data.info.n_outputs))
        test = np.zeros((len(data.y_test), data.info.n_outputs))
        start, epochs = time.perf_counter(), []
        for k, (train, held_out) in enumerate(plan):
            if stopping == "inner_split":
                fit_rows, val_rows = inner_split(data.y_train[train], data.info.task, seed=k)
                fit_rows, val_rows = train[fit_rows], train[val_rows]
            else:  # the rows whose OOF predictions are stored pick the epoch
                fit_rows, val_rows = train, held_out
            model = TabMModel({}, data.info, seed=k, n_threads=n_threads, device="cpu", options={"min_epochs": 0})
            model.fit(data.X_train.take(fit_rows), data.y_train[fit_rows], data.X_train.take(val_rows),
                      data.y_train[val_rows], budget=TimeBudget(fold_seconds))
            oof[held_out] = model.predict(data.X_train.take(held_out))
            test += model.predict(data.X_test) / plan.n_folds
            epochs.append(model.best_epoch_ + 1)
        oof_score, test_score = data.score(data.y_train, oof), data.score(data.y_test, test)
        rows.append({"dataset": name, "task": data.info.task, "stopping": stopping, "folds": plan.n_folds,
                     "fold_seconds": fold_seconds, "oof_score": oof_score, "test_score": test_score,
                     "oof_minus_test": oof_score - test_score, "mean_best_epoch": float(np.mean(epochs)),
                     "seconds": time.perf_counter() - start})
        print(rows[-1], flush=True)
    return rows


def append(out: Path, rows: list[dict]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    new = not out.exists()
    stamp = {"date": dt.date.today().isoformat(), "cores": os.cpu_count()}
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=[*rows[0], *stamp])
        if new:
            writer.writeheader()
        writer.writerows({**row, **stamp} for row in rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = ap.add_subparsers(dest="command", required=True)
    epochs = commands.add_parser("epochs")
    epochs.add_argument("--dataset", default="197_cpu_act")
    epochs.add_argument("--epochs", type=int, default=3)
    epochs.add_argument("--out", type=Path, default=RESULTS / "tabm_cpu_epochs.csv")
    gap = commands.add_parser("oof-gap")
    gap.add_argument("--datasets", default="phoneme,wine_quality_white,225_puma8NH")
    gap.add_argument("--folds", type=int, default=5)
    gap.add_argument("--fold-seconds", type=float, default=20.0)
    gap.add_argument("--out", type=Path, default=RESULTS / "tabm_oof_gap.csv")
    for command in (epochs, gap):
        command.add_argument("--threads", type=int, default=os.cpu_count())
    args = ap.parse_args(argv)
    if args.command == "epochs":
        append(args.out, measure_epochs(args.dataset, args.epochs, args.threads))
    else:
        for name in args.datasets.split(","):
            append(args.out, measure_oof_gap(name, args.folds, args.fold_seconds, args.threads))
    return 0


if __name__ == "__main__":
    sys.exit(main())

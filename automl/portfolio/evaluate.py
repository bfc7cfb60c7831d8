"""Evaluating the candidate pool on a suite, resumably: every (dataset, configuration) pair is
bagged exactly as ``fit`` bags it (the shared 5-fold plan, inner-split early stopping) on one 75/25
split per dataset, and written as it finishes:

- ``OUT/<dataset>/<configuration>.npz``: OOF predictions of the training rows and predictions
  of the test rows (float16 probabilities, float32 regression values), then
- one row of ``OUT/results.csv``: OOF and test metric, fit and predict seconds, what was adapted.

A killed run continues where it stopped (pairs with a row are skipped), so the work can be spread
over several sessions. Portfolio selection reads only these files.
"""
from __future__ import annotations

import csv
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..budget import TimeBudget
from ..data.encoder import TabularEncoder
from ..data.target import LabelCodec
from ..metrics import get_metric
from ..models.bagging import BaggedModel
from ..models.base import ModelConfig, TaskInfo
from ..validation import FoldPlan

N_FOLDS = 5
# Rows per dataset: most meta datasets are below this; the rest are subsampled (seeded) so the
# whole pool fits in hours of a 2-core machine.
MAX_TRAIN_ROWS, MAX_TEST_ROWS = 3_000, 1_000
# A guard against a configuration that would take minutes on one dataset; it adapts to this.
SECONDS_PER_PAIR = 120.0
COLUMNS = ["dataset", "task", "config", "family", "metric", "oof_score", "test_score", "fit_seconds",
           "predict_seconds", "adapted", "status", "error"]


def prepare(suite: Path, entry: dict, seed: int = 0):
    """(train table, train target, test table, test target, TaskInfo) of one suite dataset."""
    frame = pd.read_csv(suite / entry["file"])
    frame = frame[frame[entry["target"]].notna()].reset_index(drop=True)
    y = frame.pop(entry["target"])
    task = entry["task"]
    stratify = y if task != "regression" else None
    X_train, X_test, y_train, y_test = train_test_split(frame, y, test_size=0.25, random_state=seed,
                                                        stratify=stratify)
    rng = np.random.default_rng(seed)
    train = np.sort(rng.permutation(len(X_train))[:MAX_TRAIN_ROWS])
    test = np.sort(rng.permutation(len(X_test))[:MAX_TEST_ROWS])
    X_train, y_train, X_test, y_test = X_train.iloc[train], y_train.iloc[train], X_test.iloc[test], y_test.iloc[test]
    encoder = TabularEncoder().fit(X_train)
    if task == "regression":
        target_train, target_test, info = y_train.to_numpy(float), y_test.to_numpy(float), TaskInfo(task, 0)
    else:
        codec = LabelCodec().fit(y)  # every class of the dataset
        target_train, target_test = codec.encode(y_train), codec.encode(y_test)
        info = TaskInfo(task, len(codec.classes_))
    return encoder.transform(X_train), target_train, encoder.transform(X_test), target_test, info


def evaluate(suite: Path, out: Path, configs: list[ModelConfig], datasets: list[str] | None = None,
             n_threads: int = 2, log=print) -> None:
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.csv"
    done = set()
    if results.exists():
        done = {(r["dataset"], r["config"]) for r in csv.DictReader(open(results))}
    manifest = json.loads((suite / "manifest.json").read_text())
    for entry in manifest:
        if datasets and entry["name"] not in datasets:
            continue
        todo = [c for c in configs if (entry["name"], c.name) not in done]
        if not todo:
            continue
        X, y, X_test, y_test, info = prepare(suite, entry)
        metric = get_metric(None, info.task)
        plan = FoldPlan.make(y, N_FOLDS, info.task, seed=0)
        (out / entry["name"]).mkdir(exist_ok=True)
        np.savez_compressed(out / entry["name"] / "_targets.npz", y=y, y_test=y_test, fold_of=plan.fold_of)
        for config in todo:
            row = {"dataset": entry["name"], "task": info.task, "config": config.name, "family": config.family,
                   "metric": metric.name}
            try:
                model = BaggedModel(config, info, seed=0, n_threads=n_threads)
                oof = model.fit(X, y, plan, TimeBudget(SECONDS_PER_PAIR))
                start = time.perf_counter()
                test = model.predict(X_test)
                row.update(oof_score=metric.score(y, oof), test_score=metric.score(y_test, test),
                           fit_seconds=round(model.fit_seconds_, 3),
                           predict_seconds=round(time.perf_counter() - start, 4),
                           adapted=model.adapted_, status="ok", error="")
                dtype = np.float32 if info.task == "regression" else np.float16  # float16 overflows above 65,504
                np.savez_compressed(out / entry["name"] / f"{config.name}.npz", oof=oof.astype(dtype),
                                    test=test.astype(dtype))
            except Exception as exc:  # a failing pair is a result, not a crash
                row.update(status="error", error=f"{type(exc).__name__}: {exc}"[:300])
            _append(results, row)
            log(f"{entry['name']:>24} {config.name:<16} {row['status']} "
                f"{row.get('test_score', float('nan')):.5f} ({row.get('fit_seconds', 0):.1f}s)")


def _append(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)

"""Evaluating the candidate pool on a suite, resumably: every (dataset, configuration) pair is
bagged exactly as ``fit`` bags it (the shared 5-fold plan, inner-split early stopping) on one 75/25
split per dataset, and written as it finishes:

- ``OUT/<dataset>/<configuration>.npz``: OOF predictions of the training rows and predictions
  of the test rows (float16 probabilities, float32 regression values), then
- one row of ``OUT/results.csv``: OOF and test metric, fit and predict seconds, what was adapted.

A killed run continues where it stopped (pairs with a row are skipped), so the work can be spread
over several sessions; datasets go smallest first (rows x features), so a partial evaluation covers
as many datasets as it can. Each pair is noted in ``OUT/started.txt`` before it runs: a pair that
killed the process (a native crash) twice is recorded as an error and not tried again. Portfolio
selection reads only these files.
"""
from __future__ import annotations

import csv
import json
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from ..data.training import TrainingData
from ..budget import TimeBudget
from ..data.prepare import prepare as prepare_table
from ..data.target import LabelCodec
from ..metrics import get_metric
from ..models.bagging import BaggedModel
from ..models.base import ModelConfig, TaskInfo
from ..folds import FoldPlan

N_FOLDS = 5
# Rows per dataset: most meta datasets are below this; the rest are subsampled (seeded) so the
# whole pool fits in hours of a 2-core machine.
MAX_TRAIN_ROWS, MAX_TEST_ROWS = 3_000, 1_000
# Each pair's time limit, as a fit gives one model at the budgets the portfolio is for (at most 40%
# of what is left; 30 s of a 60-120 s fit): boosting adapts to it (fewer rounds at a higher rate).
# At 120 s, CatBoost on iris (150 rows) ran to the limit with thousands of tiny rounds.
SECONDS_PER_PAIR = 30.0
COLUMNS = ["dataset", "task", "config", "family", "metric", "oof_score", "test_score", "fit_seconds",
           "predict_seconds", "adapted", "status", "error"]


def prepare(suite: Path, entry: dict, seed: int = 0, max_train_rows: int = MAX_TRAIN_ROWS):
    """(train table, train target, test table, test target, TaskInfo) of one suite dataset."""
    frame = pd.read_csv(suite / entry["file"])
    frame = frame[frame[entry["target"]].notna()].reset_index(drop=True)
    y = frame.pop(entry["target"])
    task = entry["task"]
    stratify = y if task != "regression" else None
    X_train, X_test, y_train, y_test = train_test_split(frame, y, test_size=0.25, random_state=seed,
                                                        stratify=stratify)
    rng = np.random.default_rng(seed)
    train = np.sort(rng.permutation(len(X_train))[:max_train_rows])
    test = np.sort(rng.permutation(len(X_test))[:MAX_TEST_ROWS])
    X_train, y_train, X_test, y_test = X_train.iloc[train], y_train.iloc[train], X_test.iloc[test], y_test.iloc[test]
    codec = None if task == "regression" else LabelCodec().fit(y)  # every class of the dataset
    prepared = prepare_table(X_train, y_train, regression=task == "regression", codec=codec)
    target_test = y_test.to_numpy(float) if codec is None else codec.encode(y_test)
    info = TaskInfo(task, prepared.n_classes)
    return prepared.data.X, prepared.data.y, prepared.encoder.transform(X_test), target_test, info


def evaluate(suite: Path, out: Path, configs: list[ModelConfig], datasets: list[str] | None = None,
             n_threads: int = 2, max_train_rows: int = MAX_TRAIN_ROWS, log=print) -> None:
    """Every (dataset, configuration) pair not yet in ``out``; ``max_train_rows`` larger than the
    default evaluates the pool at the sizes fits meet (``portfolios/evaluation_15k``)."""
    out.mkdir(parents=True, exist_ok=True)
    results = out / "results.csv"
    done = set()
    if results.exists():
        done = {(r["dataset"], r["config"]) for r in csv.DictReader(open(results))}
    starts = out / "started.txt"
    attempts = Counter(tuple(line.split("\t")) for line in starts.read_text().splitlines()) if starts.exists() else {}
    manifest = json.loads((suite / "manifest.json").read_text())
    for entry in sorted(manifest, key=lambda e: min(e["rows"], max_train_rows) * e["features"]):
        if datasets and entry["name"] not in datasets:
            continue
        for config in configs:
            if (entry["name"], config.name) not in done and attempts.get((entry["name"], config.name), 0) >= 2:
                _append(results, {"dataset": entry["name"], "task": entry["task"], "config": config.name,
                                  "family": config.family, "status": "error",
                                  "error": "the process died twice on this pair (native crash)"})
                done.add((entry["name"], config.name))
        todo = [c for c in configs if (entry["name"], c.name) not in done]
        if not todo:
            continue
        X, y, X_test, y_test, info = prepare(suite, entry, max_train_rows=max_train_rows)
        metric = get_metric(None, info.task)
        plan = FoldPlan.make(y, N_FOLDS, info.task, seed=0)
        (out / entry["name"]).mkdir(exist_ok=True)
        np.savez_compressed(out / entry["name"] / "_targets.npz", y=y, y_test=y_test, fold_of=plan.fold_of)
        for config in todo:
            row = {"dataset": entry["name"], "task": info.task, "config": config.name, "family": config.family,
                   "metric": metric.name}
            _note_start(starts, entry["name"], config.name)
            try:
                model = BaggedModel(config, info, seed=0, n_threads=n_threads)
                oof = model.fit(TrainingData(X, y), plan, TimeBudget(SECONDS_PER_PAIR))
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


def _note_start(path: Path, dataset: str, config: str) -> None:
    with open(path, "a") as f:
        f.write(f"{dataset}\t{config}\n")
        f.flush()
        os.fsync(f.fileno())


def _append(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow(row)

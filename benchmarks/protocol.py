"""The benchmark protocol of ../shared/BENCHMARK.md: data, split and metrics.

Only numpy, pandas and scikit-learn are used here, so that this module imports
both in the project's environment and in the peers' virtual environment.

Positive-class rule (binary tasks, applied to every system alike): the labels of
the full dataset are sorted; the positive class is the greater one (the last),
and ROC AUC is computed on the probability of that class.
"""

from __future__ import annotations

import csv
import functools
import json
import logging
import os
import platform
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, mean_squared_error, r2_score, roc_auc_score
from sklearn.model_selection import train_test_split

TASKS = ("binary", "multiclass", "regression")
MAIN_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
SECOND_METRIC = {"binary": "accuracy", "multiclass": "accuracy", "regression": "r2"}
HIGHER_IS_BETTER = {"roc_auc": True, "log_loss": False, "rmse": False}
PROBA_CLIP = 1e-15

REPO = Path(__file__).resolve().parents[1]  # the repository's root
RESULTS = REPO / "benchmarks" / "results"
SHARED = REPO.parent / "shared"
DEV = SHARED / "datasets" / "dev"


def resolve_suite(suite: str) -> Path:
    """A suite name (folder under shared/datasets/) or a path to a suite folder."""
    path = Path(suite)
    if not (path / "manifest.json").exists():
        path = (SHARED / "datasets" / suite).resolve()
    if not (path / "manifest.json").exists():
        sys.exit(f"error: no suite {suite!r}: {path}/manifest.json does not exist "
                 f"(the shared data lives in {SHARED}/datasets/)")
    return path


def markdown_table(table: pd.DataFrame) -> list[str]:
    """A DataFrame (index first) as the lines of a markdown table."""
    header = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for index, *values in table.itertuples():
        cells = [f"{v:.5g}" if isinstance(v, float) else str(v) for v in values]
        lines.append("| " + " | ".join([str(index)] + cells) + " |")
    return lines


STAMP = ("machine", "commit")


def append_row(path: Path, row: dict, columns: list[str]) -> None:
    """One result row appended to a CSV (header first if new), stamped with the machine and the
    commit that measured it: a killed benchmark keeps its rows. A CSV begun before stamping keeps
    its own columns."""
    new = not Path(path).exists()
    header = columns + [c for c in STAMP if c not in columns] if new else next(csv.reader(open(path)))
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerow({"machine": machine(), "commit": git_commit(), **row})


def machine() -> str:
    return f"{platform.node()} ({os.cpu_count()} cores, {platform.machine()})"


@functools.cache
def git_commit() -> str:
    """This checkout's commit, ``+dirty`` when the package has uncommitted changes."""
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                             text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "automl"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        return sha + ("+dirty" if dirty else "")
    except (subprocess.CalledProcessError, FileNotFoundError):
        return "unknown"


def pending(suite_dir: Path, out: Path, datasets: str = "") -> list[dict]:
    """The suite's entries (``datasets``: comma-separated names, default all) that have no row in
    the CSV ``out`` yet: a rerun of a resumable benchmark picks up where it stopped."""
    done = {r["dataset"] for r in csv.DictReader(open(out))} if Path(out).exists() else set()
    wanted = {d for d in datasets.split(",") if d}
    return [e for e in read_manifest(suite_dir) if e["name"] not in done and (not wanted or e["name"] in wanted)]


def read_manifest(suite_dir: Path) -> list[dict]:
    with open(Path(suite_dir) / "manifest.json") as f:
        return json.load(f)


def load_dataset(suite_dir: Path, entry: dict) -> tuple[pd.DataFrame, pd.Series]:
    """Read the gzipped CSV, drop rows whose target is missing, return (X, y).

    Features are returned unchanged: strings stay strings, NaN stays NaN.
    """
    df = pd.read_csv(Path(suite_dir) / entry["file"])
    target = entry["target"]
    df = df[df[target].notna()].reset_index(drop=True)
    y = df[target]
    X = df.drop(columns=[target])
    return X, y


def split(X: pd.DataFrame, y: pd.Series, task: str, seed: int):
    """75/25 split, stratified on the target for classification tasks."""
    stratify = y if task in ("binary", "multiclass") else None
    return train_test_split(X, y, test_size=0.25, random_state=seed, stratify=stratify)


def sorted_classes(y: pd.Series) -> list:
    """All classes of the full dataset, sorted (the last is the positive class)."""
    return sorted(pd.unique(y).tolist())


def _canonical(values, classes: list) -> list:
    """Map labels a system returns (maybe of another dtype, e.g. 1.0 or '1' for 1)
    onto the dataset's own class labels."""
    exact = {c: c for c in classes}
    by_str = {str(c): c for c in classes}
    out = []
    for v in values:
        v = v.item() if hasattr(v, "item") else v
        if v in exact:
            out.append(exact[v])
        elif str(v) in by_str:
            out.append(by_str[str(v)])
        elif isinstance(v, float) and v.is_integer() and str(int(v)) in by_str:
            out.append(by_str[str(int(v))])
        else:
            raise ValueError(f"predicted label {v!r} is not one of the classes {classes}")
    return out


def align_proba(proba, proba_classes, classes: list) -> np.ndarray:
    """Reorder probability columns (given in the order `proba_classes`) to the order of
    `classes` (all classes of the full dataset, sorted); a class the model never saw
    gets probability 0."""
    proba = np.asarray(proba, dtype=float)
    if proba.ndim == 1:  # a bare positive-class probability for binary tasks
        proba = np.column_stack([1.0 - proba, proba])
    mapped = _canonical(list(proba_classes), classes)
    if len(mapped) != proba.shape[1]:
        raise ValueError(f"{proba.shape[1]} probability columns for classes {proba_classes}")
    out = np.zeros((proba.shape[0], len(classes)))
    for j, c in enumerate(mapped):
        out[:, classes.index(c)] = proba[:, j]
    return out


def multiclass_log_loss(y_true, proba: np.ndarray, classes: list) -> float:
    """Log loss with labels = every class of the full dataset; probabilities clipped to
    [1e-15, 1] and each row renormalized to sum 1 (as sklearn's log_loss did)."""
    p = np.clip(proba, PROBA_CLIP, 1.0)
    p = p / p.sum(axis=1, keepdims=True)
    idx = np.array([classes.index(c) for c in _canonical(list(y_true), classes)])
    return float(-np.mean(np.log(p[np.arange(len(idx)), idx])))


def score(task: str, y_test: pd.Series, classes: list | None, proba=None, proba_classes=None, pred=None) -> dict:
    """Main and second metric on the test part.

    Classification: `proba` (n x k) with its column labels `proba_classes`, and `pred`
    (predicted labels, for accuracy). Regression: `pred` only.
    """
    if task == "regression":
        y = np.asarray(y_test, dtype=float)
        p = np.asarray(pred, dtype=float).ravel()
        return {
            "metric": "rmse",
            "value": float(np.sqrt(mean_squared_error(y, p))),
            "second_metric": "r2",
            "second_value": float(r2_score(y, p)),
        }
    full = align_proba(proba, proba_classes, classes)
    y_true = _canonical(list(y_test), classes)
    y_pred = _canonical(list(np.asarray(pred).ravel()), classes)
    accuracy = float(accuracy_score([classes.index(c) for c in y_true], [classes.index(c) for c in y_pred]))
    if task == "binary":
        positive = classes[-1]
        is_pos = np.array([c == positive for c in y_true], dtype=int)
        value = float(roc_auc_score(is_pos, full[:, -1]))
        return {"metric": "roc_auc", "value": value, "second_metric": "accuracy", "second_value": accuracy}
    return {
        "metric": "log_loss",
        "value": multiclass_log_loss(y_true, full, classes),
        "second_metric": "accuracy",
        "second_value": accuracy,
    }


@contextmanager
def captured_log():
    """The package's log lines while the block runs (instead of stderr)."""
    lines: list[str] = []

    class Capture(logging.Handler):
        def emit(self, record):
            lines.append(record.getMessage())

    handler = Capture()
    log = logging.getLogger("automl")
    log.addHandler(handler)
    try:
        yield lines
    finally:
        log.removeHandler(handler)

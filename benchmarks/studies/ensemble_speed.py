"""Ensemble speed on a synthetic store: 200 models x 100,000 rows x 10 classes (float32, 800 MB).

Times GES (50 steps), QDO-ES (default budget: 50 evaluations per model) and one ``auto``
study of 50 trials, with log loss and with ROC AUC (one-vs-rest over 10 classes, the slowest
metric for GES). Beside GES it gives a numpy lower bound: the time to read, once per step, what
a step must read (the true-class column matrix for log loss, every column for ROC AUC), and for
log loss the plain-numpy reference (float64 logarithms of the true-class column, as the core
version did).

    flock /tmp/bench.lock python -m benchmarks.studies.ensemble_speed

Writes benchmarks/results/ensemble_speed.csv and ensemble_speed.md.
"""
from __future__ import annotations

import datetime as dt
import os
import platform
import time

import numpy as np
import pandas as pd

from automl.ensemble.data import EnsembleData
from ..protocol import RESULTS, markdown_table

from automl.budget import TimeBudget
from automl.context import FitContext
from automl.ensemble.greedy import GreedyEnsemble
from automl.ensemble.quality_diversity import QualityDiversityEnsemble
from automl.metrics import EPS, get_metric
from automl.ensemble.search import search_ensemble
from automl.store import ModelRecord, PredictionStore
from automl.folds import FoldPlan

N_MODELS, N_ROWS, N_CLASSES, STEPS = 200, 100_000, 10, 50
AUTO_TRIALS, AUTO_SECONDS = 50, 120.0


def synthetic(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Models of varying skill: softmax of (skill x one-hot truth + noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, N_CLASSES, N_ROWS)
    predictions = np.empty((N_MODELS, N_ROWS, N_CLASSES), dtype=np.float32)
    for j in range(N_MODELS):
        logits = rng.normal(size=(N_ROWS, N_CLASSES)).astype(np.float32)
        logits[np.arange(N_ROWS), y] += rng.uniform(0.5, 2.5)
        logits = np.exp(logits - logits.max(axis=1, keepdims=True))
        predictions[j] = logits / logits.sum(axis=1, keepdims=True)
    return predictions, y


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def read_bound(array: np.ndarray) -> float:
    """Seconds to read ``array`` once per GES step (a sum touches every byte once)."""
    return timed(lambda: [array.sum(axis=0) for _ in range(STEPS)])


def plain_numpy_log_loss_ges(true_class: np.ndarray, steps: int) -> None:
    """The core version's fast path: float64 logs of every candidate's true-class column."""
    running = np.zeros(true_class.shape[1])
    for step in range(steps):
        losses = -np.mean(np.log(np.clip((running + true_class) / (step + 1), EPS, None)), axis=1)
        running += true_class[np.argmin(losses)]


def main() -> None:
    predictions, y = synthetic()
    rows = []
    true_class = np.ascontiguousarray(predictions[:, np.arange(N_ROWS), y])
    for metric_name in ("log_loss", "roc_auc"):
        metric = get_metric(metric_name, "multiclass")
        ges = timed(lambda: GreedyEnsemble(metric, "multiclass", n_iterations=STEPS).fit(EnsembleData(predictions, y)))
        bound = read_bound(true_class if metric_name == "log_loss" else predictions)
        rows.append({"metric": metric_name, "what": f"GES {STEPS} steps", "seconds": ges,
                     "lower_bound_seconds": bound, "ratio_to_bound": ges / bound})
        if metric_name == "log_loss":
            sample = 5  # the plain version is slow: time 5 steps and scale
            plain = timed(lambda: plain_numpy_log_loss_ges(true_class.astype(np.float64), sample)) * STEPS / sample
            rows.append({"metric": metric_name, "what": f"plain numpy GES {STEPS} steps (float64 logs, "
                         f"extrapolated from {sample})", "seconds": plain, "lower_bound_seconds": bound,
                         "ratio_to_bound": plain / bound})
        qdo = QualityDiversityEnsemble(metric, "multiclass")
        seconds = timed(lambda: qdo.fit(EnsembleData(predictions, y)))
        rows.append({"metric": metric_name, "what": f"QDO-ES {qdo.n_evaluations_} evaluations", "seconds": seconds})
        store = _store(predictions, y, metric_name)
        result = {}
        context = FitContext.of(metric, "multiclass", predictions.shape[2], threads=os.cpu_count() or 1)
        seconds = timed(lambda: result.update(r=search_ensemble(EnsembleData.from_store(store), context,
                                                               TimeBudget(AUTO_SECONDS), AUTO_TRIALS)))
        trace = result["r"].trace
        states = pd.Series([e.state for e in trace]).value_counts().to_dict()
        rows.append({"metric": metric_name, "what": f"auto study, {len(trace)} trials {states}, chose "
                     f"{result['r'].strategy.name}", "seconds": seconds})
        print(pd.DataFrame(rows).to_string(), flush=True)
    frame = pd.DataFrame(rows)
    RESULTS.mkdir(exist_ok=True)
    frame.to_csv(RESULTS / "ensemble_speed.csv", index=False)
    (RESULTS / "ensemble_speed.md").write_text(_markdown(frame))


def _store(predictions, y, metric_name) -> PredictionStore:
    store = PredictionStore(y, "multiclass", metric_name, FoldPlan.make(y, 8, "multiclass", 0).fold_of)
    families = ["lightgbm", "xgboost", "catboost", "extra_trees"]
    for j, p in enumerate(predictions):
        store.add(ModelRecord(f"model_{j}", families[j % 4], {"variant": j // 4}, 1.0, 0.1, 0.0), p)
    return store


def _markdown(frame: pd.DataFrame) -> str:
    head = (f"# Ensemble speed ({dt.date.today()}, {platform.node() or 'machine'}, {os.cpu_count()} cores, no GPU)\n\n"
            f"Synthetic store: {N_MODELS} models x {N_ROWS:,} rows x {N_CLASSES} classes, float32 "
            f"({N_MODELS * N_ROWS * N_CLASSES * 4 / 1e6:.0f} MB). Lower bound: reading what a GES step reads, "
            f"once per step ({STEPS} steps). auto: {AUTO_TRIALS} trials at most, {AUTO_SECONDS:.0f} s cap.\n\n")
    frame = frame.astype(object).fillna("").map(lambda v: f"{v:.2f}" if isinstance(v, float) else v)
    return head + "\n".join(markdown_table(frame.set_index("metric"))) + "\n"


if __name__ == "__main__":
    main()

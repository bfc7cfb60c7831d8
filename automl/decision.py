"""Decision rules: turning the ensemble's probabilities into labels for a metric that scores labels.

Argmax of the probabilities is the right decision for accuracy, not for F1, MCC or balanced
accuracy on an imbalanced binary table. For a binary task whose metric reads labels, a threshold
on the positive class's probability is tuned on the chosen ensemble's honest OOF predictions:
1. cross-fitted: the OOF rows are split into folds (whole groups when there are groups); each
   fold's labels come from the threshold that scores best on the other folds, so the tuned
   decision is scored on rows it was not tuned on;
2. kept only on evidence, by the rule the ensemble search uses for GES (``ensemble.evidence``):
   the cross-fitted decisions must beat argmax on more than half of paired bootstrap resamples;
3. the threshold ``predict`` applies is then tuned on all OOF rows.
Candidates are the quantiles of the probabilities (at most ``MAX_CANDIDATES``): a threshold
between two neighbouring quantiles changes few labels.
"""
from __future__ import annotations

import numpy as np

from .ensemble.evidence import win_probability
from .folds import fold_ids
from .metrics import Metric

MAX_CANDIDATES = 256
FOLDS = 5


def labels_as_predictions(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels as one-hot probabilities, which a label-reading metric scores as those labels."""
    return np.eye(n_classes, dtype=np.float32)[labels]


def thresholded(proba: np.ndarray, threshold: float) -> np.ndarray:
    """Binary labels: 1 where the positive class's probability reaches ``threshold``."""
    return (proba[:, 1] >= threshold).astype(np.int64)


def best_threshold(metric: Metric, y: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None) -> float:
    """The candidate threshold with the best metric on these rows (the nearest to 0.5 among ties)."""
    candidates = np.unique(np.quantile(proba[:, 1], np.linspace(0, 1, MAX_CANDIDATES)))
    candidates = np.union1d(candidates, [0.5])
    losses = np.array([metric.loss(y, labels_as_predictions(thresholded(proba, t), 2), sample_weight)
                       for t in candidates])
    ties = np.flatnonzero(losses <= losses.min() + 1e-12)
    return float(candidates[ties[np.argmin(np.abs(candidates[ties] - 0.5))]])


def tune_threshold(metric: Metric, y: np.ndarray, proba: np.ndarray, *, sample_weight: np.ndarray | None = None,
                   groups: np.ndarray | None = None, seed: int = 0) -> tuple[float | None, dict]:
    """(threshold, report) for a binary task's honest OOF probabilities; the threshold is None
    when the metric reads probabilities or the tuned decision does not win on evidence. The
    report gives the cross-fitted scores of argmax and of the tuned threshold, and the evidence."""
    if not metric.reads_labels or proba.shape[1] != 2:
        return None, {}
    folds = fold_ids(y, FOLDS, "binary", seed, groups)
    honest = np.empty(len(y), dtype=np.int64)
    for k in range(folds.max() + 1):
        tune, held = folds != k, folds == k
        weight = None if sample_weight is None else sample_weight[tune]
        honest[held] = thresholded(proba[held], best_threshold(metric, y[tune], proba[tune], weight))
    argmax = labels_as_predictions(np.argmax(proba, axis=1), 2)
    tuned = labels_as_predictions(honest, 2)
    p = win_probability(metric, y, tuned, argmax, task="binary", seed=seed, sample_weight=sample_weight)
    threshold = best_threshold(metric, y, proba, sample_weight) if p > 0.5 else None
    report = {"argmax_score": metric.score(y, argmax, sample_weight),
              "tuned_score": metric.score(y, tuned, sample_weight), "win_probability": p, "threshold": threshold}
    return threshold, report

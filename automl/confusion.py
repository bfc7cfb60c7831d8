"""Label metrics from confusion matrices, many candidates at once.

The ensemble search scores thousands of candidate mixtures and a decision rule hundreds of
thresholds or weightings; for a metric that reads labels, calling scikit-learn once per candidate
took most of a 60 s fit (letter, balanced accuracy: 102 s for a 60 s limit). Each candidate's
labels are counted into a (weighted) confusion matrix with one ``bincount`` for all of them, and
the metric is computed from the matrices, equal to scikit-learn's definition (tests compare them).

``confusion_metric(name, kwargs)`` gives the vectorized metric for the scikit-learn functions
known here (accuracy, balanced accuracy, F1 / F-beta / precision / recall with a binary, macro,
micro or weighted average, Matthews' correlation, Cohen's kappa), or None for any other.
"""
from __future__ import annotations

from functools import partial
from typing import Callable

import numpy as np


def confusion_matrices(y: np.ndarray, labels: np.ndarray, n_classes: int,
                       sample_weight: np.ndarray | None = None) -> np.ndarray:
    """[b, true, predicted] (weighted) counts for each row of ``labels`` [b, n] against ``y`` [n]."""
    labels = np.atleast_2d(labels)
    b = len(labels)
    cells = (np.arange(b)[:, None] * n_classes + np.asarray(y, dtype=np.int64)[None, :]) * n_classes + labels
    weights = None if sample_weight is None else np.broadcast_to(sample_weight, labels.shape).ravel()
    counts = np.bincount(cells.ravel(), weights, minlength=b * n_classes * n_classes)
    return counts.reshape(b, n_classes, n_classes).astype(np.float64)


def _divide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a / b, 0 where b is 0 (scikit-learn's zero_division default, without its warning)."""
    return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)


def _accuracy(c):
    return _divide(np.trace(c, axis1=1, axis2=2), c.sum(axis=(1, 2)))


def _balanced_accuracy(c):
    support = c.sum(axis=2)
    recall = _divide(np.diagonal(c, axis1=1, axis2=2), support)
    present = support > 0
    return (recall * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _f_beta(c, beta: float, average: str, what: str) -> np.ndarray:
    """F-beta (``what`` "f"), precision ("precision") or recall ("recall") with ``average``."""
    tp = np.diagonal(c, axis1=1, axis2=2)
    predicted, actual = c.sum(axis=1), c.sum(axis=2)
    if average == "micro":
        tp, predicted, actual = tp.sum(axis=1, keepdims=True), predicted.sum(axis=1, keepdims=True), \
            actual.sum(axis=1, keepdims=True)
    precision, recall = _divide(tp, predicted), _divide(tp, actual)
    if what == "precision":
        per_class = precision
    elif what == "recall":
        per_class = recall
    else:
        per_class = _divide((1 + beta ** 2) * tp, beta ** 2 * actual + predicted)
    if average == "binary":
        return per_class[:, 1]
    if average == "micro":
        return per_class[:, 0]
    if average == "weighted":
        return _divide((per_class * actual).sum(axis=1), actual.sum(axis=1))
    present = (actual + predicted) > 0  # macro: the labels in y or in the predictions
    return (per_class * present).sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _matthews(c):
    s, correct = c.sum(axis=(1, 2)), np.trace(c, axis1=1, axis2=2)
    p, t = c.sum(axis=1), c.sum(axis=2)
    numerator = correct * s - (p * t).sum(axis=1)
    # Constant predictions make a factor 0, which weighted sums leave at ~1e-16 x s^2: counted as 0.
    spread_p, spread_t = s ** 2 - (p ** 2).sum(axis=1), s ** 2 - (t ** 2).sum(axis=1)
    flat = (spread_p <= 1e-12 * s ** 2) | (spread_t <= 1e-12 * s ** 2)
    return np.where(flat, 0.0, _divide(numerator, np.sqrt(np.maximum(spread_p * spread_t, 0.0))))


def _kappa(c, weights: str | None) -> np.ndarray:
    k = c.shape[1]
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    w = {None: (i != j).astype(float), "linear": np.abs(i - j), "quadratic": (i - j) ** 2.0}[weights]
    expected = c.sum(axis=2)[:, :, None] * c.sum(axis=1)[:, None, :] / c.sum(axis=(1, 2))[:, None, None]
    return 1 - _divide((w * c).sum(axis=(1, 2)), (w * expected).sum(axis=(1, 2)))


def confusion_metric(function: str, kwargs: dict) -> Callable[[np.ndarray], np.ndarray] | None:
    """The metric of scikit-learn's ``function`` called with ``kwargs``, from confusion matrices
    [b, k, k] to b scores; None when it is not one of those known here. (A binary average on more
    than two classes is refused before, by ``metrics.get_metric``, as scikit-learn refuses it.)"""
    kwargs = dict(kwargs)
    if function == "accuracy_score" and not kwargs:
        return _accuracy
    if function == "balanced_accuracy_score" and not kwargs.get("adjusted", False):
        return _balanced_accuracy
    if function == "matthews_corrcoef" and not kwargs:
        return _matthews
    if function == "cohen_kappa_score" and set(kwargs) <= {"weights"}:
        return partial(_kappa, weights=kwargs.get("weights"))  # partials, not closures: they pickle
    what = {"f1_score": "f", "fbeta_score": "f", "precision_score": "precision", "recall_score": "recall"}.get(function)
    average = kwargs.get("average", "binary")
    pos_label = kwargs.pop("pos_label", 1)  # the averaged scorers name none: it is ignored there
    if what is None or not set(kwargs) <= {"average", "beta"} or (average == "binary" and pos_label != 1):
        return None
    if average not in ("binary", "macro", "micro", "weighted"):
        return None
    return partial(_f_beta, beta=float(kwargs.get("beta", 1.0)), average=average, what=what)

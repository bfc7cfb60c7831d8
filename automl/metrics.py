"""Metrics on prediction arrays.

Predictions follow one convention everywhere (models, store, ensembles):
classification -> probabilities of shape (n_rows, n_classes); regression -> shape (n_rows, 1).
Every metric is also exposed as a loss (lower is better) so selection code never branches on
the direction.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from sklearn import metrics as skm

EPS = 1e-15


@dataclass(frozen=True)
class Metric:
    name: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    _score: Callable[[np.ndarray, np.ndarray], float]

    def score(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The metric in its natural direction. ``y``: class indices or values; ``pred``: (n, c)."""
        return float(self._score(np.asarray(y), np.asarray(pred)))

    def loss(self, y: np.ndarray, pred: np.ndarray) -> float:
        """The metric as a loss: lower is better."""
        s = self.score(y, pred)
        return -s if self.greater_is_better else s

    def to_loss(self, score: float) -> float:
        return -score if self.greater_is_better else score


def _roc_auc(y, p):
    if p.shape[1] == 2:
        return binary_auc(y == 1, p[:, 1])
    return skm.roc_auc_score(y, _normalize(p), multi_class="ovr", labels=np.arange(p.shape[1]))


def binary_auc(positive: np.ndarray, scores: np.ndarray) -> float:
    """ROC AUC as the Mann-Whitney U of the scores' ranks (ties share their mean rank): equal to
    scikit-learn's ``roc_auc_score``, without its per-call validation (~15 ms), which the search's
    bootstrap and portfolio selection pay thousands of times."""
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0:
        return skm.roc_auc_score(positive, scores)  # its error for a single class
    _, inverse, counts = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True, return_counts=True)
    mean_ranks = np.cumsum(counts) - (counts - 1) / 2.0
    return float((mean_ranks[inverse.ravel()][positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _normalize(p):
    p = np.clip(p, EPS, 1.0)
    return p / p.sum(axis=1, keepdims=True)


def _log_loss(y, p):
    p = _normalize(p)
    return float(-np.mean(np.log(p[np.arange(len(y)), y.astype(int)])))


def _accuracy(y, p):
    return float(np.mean(np.argmax(p, axis=1) == y))


def _balanced_accuracy(y, p):
    return skm.balanced_accuracy_score(y, np.argmax(p, axis=1))


def _rmse(y, p):
    return float(np.sqrt(np.mean((p[:, 0] - y) ** 2)))


def _mae(y, p):
    return float(np.mean(np.abs(p[:, 0] - y)))


def _r2(y, p):
    return skm.r2_score(y, p[:, 0])


_CLS = ("binary", "multiclass")
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", True, _CLS, _roc_auc),
        Metric("log_loss", False, _CLS, _log_loss),
        Metric("accuracy", True, _CLS, _accuracy),
        Metric("balanced_accuracy", True, _CLS, _balanced_accuracy),
        Metric("rmse", False, ("regression",), _rmse),
        Metric("mae", False, ("regression",), _mae),
        Metric("r2", True, ("regression",), _r2),
    ]
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}


def get_metric(name: str | None, task: str) -> Metric:
    """The metric called ``name`` (None: the task's default), checked against the task."""
    name = DEFAULT_METRIC[task] if name is None else name
    if name not in METRICS:
        raise ValueError(f"Unknown metric {name!r}; choose one of {sorted(METRICS)}.")
    metric = METRICS[name]
    if task not in metric.tasks:
        raise ValueError(f"Metric {name!r} does not apply to a {task} task.")
    return metric

"""Metrics on prediction arrays: the one place that knows a metric's direction and what it reads.

Predictions follow one convention everywhere (models, store, ensembles):
classification -> probabilities of shape (n_rows, n_classes); regression -> shape (n_rows, 1).
Every metric is also exposed as a loss (lower is better) so selection code never branches on
the direction, and every score takes optional per-row ``sample_weight``.

A metric is one of the project's own (fast paths for the hot loops: ROC AUC from ranks, log
loss from the true-class column), or any scikit-learn scorer, by name (``f1``,
``average_precision``, ``neg_mean_absolute_percentage_error`` or the same without ``neg_``) or
as an object made with ``make_scorer``: its sign gives the direction and its response method
whether it reads probabilities or labels (``reads_labels``: argmax of the probabilities, or a
tuned decision rule at predict time, see ``automl.decision``).
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from functools import partial
from typing import Callable

import numpy as np
from sklearn import metrics as skm

from .compat import is_scorer, scorer_parts
from .confusion import confusion_matrices, confusion_metric

EPS = 1e-15


@dataclass(frozen=True)
class Metric:
    name: str
    greater_is_better: bool
    tasks: tuple[str, ...]
    # (y, pred, sample_weight or None) -> the metric in its natural direction.
    _score: Callable[[np.ndarray, np.ndarray, np.ndarray | None], float] = field(repr=False)
    # Whether the metric scores class labels (accuracy, F1, ...) rather than probabilities.
    reads_labels: bool = False
    # A user's own scorer object: saved by name only, so a loaded model cannot score with it.
    custom: bool = False
    # For a metric that reads labels: the same metric from confusion matrices [b, k, k], many
    # candidates at once (``automl.confusion``); None: scored one candidate at a time.
    confusion: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False)

    def score(self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """The metric in its natural direction. ``y``: class indices or values; ``pred``: (n, c)."""
        weight = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        return float(self._score(np.asarray(y), np.asarray(pred), weight))

    def loss(self, y: np.ndarray, pred: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
        """The metric as a loss: lower is better."""
        return self.to_loss(self.score(y, pred, sample_weight))

    def to_loss(self, score: float) -> float:
        return -score if self.greater_is_better else score

    def losses_of_labels(self, y: np.ndarray, labels: np.ndarray, n_classes: int,
                         sample_weight: np.ndarray | None = None) -> np.ndarray:
        """The loss of each row of ``labels`` [b, n] (class indices) as predictions of ``y``."""
        labels = np.atleast_2d(labels)
        if self.confusion is not None:
            scores = self.confusion(confusion_matrices(y, labels, n_classes, sample_weight))
        else:
            eye = np.eye(n_classes, dtype=np.float32)
            scores = np.array([self.score(y, eye[row], sample_weight) for row in labels])
        return -scores if self.greater_is_better else scores

    def to_score(self, loss: float) -> float:
        """The inverse of ``to_loss``."""
        return -loss if self.greater_is_better else loss

    def sort_ascending(self) -> bool:
        """Whether sorting scores ascending puts the best first (for tables)."""
        return not self.greater_is_better


# ---------------------------------------------------------------------------- the project's own
def _roc_auc(y, p, w):
    if p.shape[1] == 2:
        return binary_auc(y == 1, p[:, 1], w)
    return skm.roc_auc_score(y, _normalize(p), multi_class="ovr", labels=np.arange(p.shape[1]), sample_weight=w)


def binary_auc(positive: np.ndarray, scores: np.ndarray, sample_weight: np.ndarray | None = None) -> float:
    """ROC AUC as the Mann-Whitney U of the scores' ranks (ties share their mean rank): equal to
    scikit-learn's ``roc_auc_score``, without its per-call validation (~15 ms), which the search's
    bootstrap and portfolio selection pay thousands of times. Weighted rows go to scikit-learn."""
    positive = np.asarray(positive, dtype=bool)
    n_pos = int(positive.sum())
    n_neg = len(positive) - n_pos
    if n_pos == 0 or n_neg == 0 or sample_weight is not None:
        return skm.roc_auc_score(positive, scores, sample_weight=sample_weight)  # its error for a single class
    _, inverse, counts = np.unique(np.asarray(scores, dtype=np.float64), return_inverse=True, return_counts=True)
    mean_ranks = np.cumsum(counts) - (counts - 1) / 2.0
    return float((mean_ranks[inverse.ravel()][positive].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _normalize(p):
    p = np.clip(p, EPS, 1.0)
    return p / p.sum(axis=1, keepdims=True)


def _log_loss(y, p, w):
    p = _normalize(p)
    return float(np.average(-np.log(p[np.arange(len(y)), y.astype(int)]), weights=w))


def _accuracy(y, p, w):
    return float(np.average(np.argmax(p, axis=1) == y, weights=w))


def _balanced_accuracy(y, p, w):
    return skm.balanced_accuracy_score(y, np.argmax(p, axis=1), sample_weight=w)


def _qwk(y, p, w):
    return skm.cohen_kappa_score(y, np.argmax(p, axis=1), weights="quadratic", sample_weight=w)


def _rmse(y, p, w):
    return float(np.sqrt(np.average((p[:, 0] - y) ** 2, weights=w)))


def _mae(y, p, w):
    return float(np.average(np.abs(p[:, 0] - y), weights=w))


def _r2(y, p, w):
    return skm.r2_score(y, p[:, 0], sample_weight=w)


def _rmsle(y, p, w):
    # A model may predict slightly below zero where the target is zero: scored as zero.
    return float(np.sqrt(np.average((np.log1p(np.maximum(p[:, 0], 0.0)) - np.log1p(y)) ** 2, weights=w)))


def _pinball(quantile: float):
    return partial(_pinball_loss, quantile=quantile)  # a partial, not a closure: estimators stay picklable


def _pinball_loss(y, p, w, quantile: float):
    return skm.mean_pinball_loss(y, p[:, 0], alpha=quantile, sample_weight=w)


_CLS = ("binary", "multiclass")
_REG = ("regression",)
METRICS: dict[str, Metric] = {
    m.name: m
    for m in [
        Metric("roc_auc", True, _CLS, _roc_auc),
        Metric("log_loss", False, _CLS, _log_loss),
        Metric("accuracy", True, _CLS, _accuracy, reads_labels=True,
               confusion=confusion_metric("accuracy_score", {})),
        Metric("balanced_accuracy", True, _CLS, _balanced_accuracy, reads_labels=True,
               confusion=confusion_metric("balanced_accuracy_score", {})),
        Metric("qwk", True, _CLS, _qwk, reads_labels=True,
               confusion=confusion_metric("cohen_kappa_score", {"weights": "quadratic"})),
        Metric("rmse", False, _REG, _rmse),
        Metric("mae", False, _REG, _mae),
        Metric("r2", True, _REG, _r2),
        Metric("rmsle", False, _REG, _rmsle),
        Metric("pinball", False, _REG, _pinball(0.5)),
    ]
}
DEFAULT_METRIC = {"binary": "roc_auc", "multiclass": "log_loss", "regression": "rmse"}
# Metrics whose loss the boosting families and TabM early-stop on: smooth surrogates of any metric.
SURROGATE = {"binary": "log_loss", "multiclass": "log_loss", "regression": "squared error"}


def get_metric(metric, task: str) -> Metric:
    """The metric ``metric`` for ``task``: None (the task's default), a name of the project's own
    (``METRICS``, or ``pinball:Q`` for quantile Q), a scikit-learn scorer name (``neg_`` optional),
    or a scorer object; refused with a message naming the problem when it does not apply."""
    if metric is None:
        return METRICS[DEFAULT_METRIC[task]]
    if isinstance(metric, str):
        built = _named(metric)
    elif is_scorer(metric):
        built = _from_scorer(metric, getattr(scorer_parts(metric)[0], "__name__", "custom_metric"), custom=True)
    else:
        raise ValueError(f"metric must be None, a metric name or a scikit-learn scorer (make_scorer); got {metric!r}.")
    if task not in built.tasks:
        raise ValueError(f"Metric {built.name!r} does not apply to a {task} task.")
    _check_applies(built, task)
    return built


def metric_names() -> list[str]:
    """Every name ``get_metric`` accepts (besides ``pinball:Q``)."""
    return sorted(set(METRICS) | {_strip(name) for name in skm.get_scorer_names()})


def is_metric_name(name) -> bool:
    """Whether ``get_metric`` knows ``name`` (for some task)."""
    if not isinstance(name, str):
        return False
    try:
        _named(name)
    except ValueError:
        return False
    return True


def _named(name: str) -> Metric:
    if name in METRICS:
        return METRICS[name]
    if name.startswith("pinball:"):
        try:
            quantile = float(name.split(":", 1)[1])
        except ValueError:
            quantile = -1.0
        if not 0 < quantile < 1:
            raise ValueError(f"Metric {name!r}: the quantile after 'pinball:' must be a number in (0, 1).")
        return Metric(name, False, _REG, _pinball(quantile))
    scorers = set(skm.get_scorer_names())
    for candidate in (name, "neg_" + name):
        if candidate in scorers:
            return _from_scorer(skm.get_scorer(candidate), _strip(candidate))
    raise ValueError(f"Unknown metric {name!r}; choose one of {metric_names()}, 'pinball:Q', "
                     "or pass a scikit-learn scorer (sklearn.metrics.make_scorer).")


def _strip(name: str) -> str:
    return name[len("neg_"):] if name.startswith("neg_") else name


def _from_scorer(scorer, name: str, custom: bool = False) -> Metric:
    """A Metric from a scikit-learn scorer: its score function, sign, response method and keyword
    arguments (``compat.scorer_parts``)."""
    func, sign, kwargs, responses = scorer_parts(scorer)
    reads_labels = "predict" in responses
    module = getattr(func, "__module__", "") or ""
    tasks = _REG if module.endswith("_regression") else _CLS if module.endswith(("_classification", "_ranking")) \
        else _CLS + _REG
    if reads_labels and module.endswith("_ranking"):
        tasks = _CLS
    score = _ScorerScore(func, kwargs, reads_labels, "labels" in inspect.signature(func).parameters)
    labels = reads_labels and tasks == _CLS
    confusion = confusion_metric(getattr(func, "__name__", ""), kwargs) if labels else None
    return Metric(name, sign > 0, tasks, score, reads_labels=labels, custom=custom, confusion=confusion)


@dataclass(frozen=True)
class _ScorerScore:
    """A scorer's function applied to predictions in the project's convention (an object, not a
    closure, so that an estimator holding its metric pickles)."""

    func: Callable
    kwargs: dict
    reads_labels: bool
    takes_labels: bool

    def __call__(self, y, p, w):
        extra = {} if w is None else {"sample_weight": w}
        if p.shape[1] == 1:  # regression
            response_values = p[:, 0]
        elif self.reads_labels:
            response_values = np.argmax(p, axis=1)
        else:
            response_values = p[:, 1] if p.shape[1] == 2 else _normalize(p)
            if self.takes_labels and p.shape[1] > 2 and "labels" not in self.kwargs:
                extra["labels"] = np.arange(p.shape[1])
        return self.func(y, response_values, **self.kwargs, **extra)


def _check_applies(metric: Metric, task: str) -> None:
    """Scores a tiny made-up prediction, so a metric that cannot score this task (``f1`` with its
    binary average on three classes) is refused before any training, with scikit-learn's reason."""
    n_classes = {"binary": 2, "multiclass": 3}.get(task, 0)
    if n_classes:
        y = np.tile(np.arange(n_classes), 4)
        p = np.full((len(y), n_classes), 0.1)
        p[np.arange(len(y)), (y + np.arange(len(y)) // n_classes) % n_classes] = 0.8
        p /= p.sum(axis=1, keepdims=True)
    else:
        y = np.linspace(1.0, 2.0, 8)
        p = (y + 0.1)[:, None]
    try:
        value = metric.score(y, p)
    except Exception as exc:  # scikit-learn's own message says why
        raise ValueError(f"Metric {metric.name!r} cannot score a {task} task: {type(exc).__name__}: {exc}") from None
    if not np.isfinite(value):
        raise ValueError(f"Metric {metric.name!r} gave {value} on a {task} task; it does not apply.")

"""Decision rules: turning the ensemble's probabilities into labels for a metric that scores labels.

Argmax of the probabilities is the right decision for accuracy on calibrated probabilities, not
for F1, MCC or balanced accuracy on an imbalanced table, nor for quadratic weighted kappa. When
the fit's metric reads labels, one rule is tuned on the chosen ensemble's honest OOF predictions:
- binary: a threshold on the positive class's probability (candidates: its quantiles);
- multiclass: per-class weights on the probabilities (label = argmax of p x w), by coordinate
  ascent over a grid of scales, or, for QWK on ordered classes, cut-points on the expected class
  (label = how many cut-points the expected class index passes).
It is kept only on evidence, by the rule that lets GES replace the single best model
(``ensemble.evidence``): the rule is cross-fitted (its labels for each fold of the OOF rows come
from a rule tuned on the other folds, whole groups per fold), and those labels must beat argmax on
more than half of paired bootstrap resamples. The rule ``predict`` applies is then tuned on all
OOF rows. Tuning reads at most ``MAX_TUNING_ROWS`` rows (a seeded sample).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .ensemble.evidence import win_probability
from .folds import fold_ids
from .metrics import Metric
from .persistence import KindAndValues

MAX_CANDIDATES = 256
FOLDS = 5
# Rows a rule is tuned on at most (a seeded sample): every candidate rule is scored from confusion
# matrices (``automl.confusion``), and 26 classes (letter) then tune in about a second.
MAX_TUNING_ROWS = 5_000
# Per-class weights are searched on this grid of scales (relative to the current weight), two
# passes over the classes: enough for a 26-class table to tune in seconds.
CLASS_SCALES = np.geomspace(0.25, 4.0, 9)
WEIGHT_PASSES = 2
CUT_OFFSETS = np.linspace(-0.5, 0.5, 11)


@dataclass(frozen=True)
class DecisionRule(KindAndValues):
    """How labels come from probabilities: ``argmax``; ``threshold`` (values: the positive-class
    probability from which the positive class is said); ``class_weights`` (values: one weight per
    class); ``cut_points`` (values: k - 1 increasing cuts on the expected class index)."""

    KINDS = ("argmax", "threshold", "class_weights", "cut_points")
    kind: str = "argmax"
    values: tuple[float, ...] = ()

    def labels(self, proba: np.ndarray) -> np.ndarray:
        if self.kind == "threshold":
            return (proba[:, 1] >= self.values[0]).astype(np.int64)
        if self.kind == "class_weights":
            return np.argmax(proba * np.asarray(self.values), axis=1)
        if self.kind == "cut_points":
            return cut_labels(expected_class(proba), np.asarray(self.values))
        return np.argmax(proba, axis=1)

    def describe(self) -> str:
        if self.kind == "threshold":
            return f"threshold {self.values[0]:.4f} on the positive class"
        if self.kind == "class_weights":
            return "class weights " + ", ".join(f"{v:.3g}" for v in self.values)
        if self.kind == "cut_points":
            return "cut-points " + ", ".join(f"{v:.3g}" for v in self.values) + " on the expected class"
        return "the most probable class"



ARGMAX = DecisionRule()


def expected_class(proba: np.ndarray) -> np.ndarray:
    """Each row's expected class index under its probabilities (what QWK's cut-points cut)."""
    return proba @ np.arange(proba.shape[1], dtype=np.float64)


def cut_labels(expected: np.ndarray, cuts: np.ndarray) -> np.ndarray:
    """The class of each expected index: how many (increasing) cut-points it reaches."""
    return np.searchsorted(cuts, expected, side="right").astype(np.int64)


def labels_as_predictions(labels: np.ndarray, n_classes: int) -> np.ndarray:
    """Labels as one-hot probabilities, which a label-reading metric scores as those labels."""
    return np.eye(n_classes, dtype=np.float32)[labels]


def tune_decision(metric: Metric, y: np.ndarray, proba: np.ndarray, *, sample_weight: np.ndarray | None = None,
                  groups: np.ndarray | None = None, seed: int = 0) -> tuple[DecisionRule, dict]:
    """(rule, report) for a classification task's honest OOF probabilities: argmax when the
    metric reads probabilities or the tuned rule does not win on evidence. The report gives the
    cross-fitted scores of argmax and of the tuned rule, and the share of resamples it won."""
    if not metric.reads_labels or proba.ndim != 2 or proba.shape[1] < 2:
        return ARGMAX, {}
    rows = _tuning_rows(len(y), seed)
    y, proba = y[rows], proba[rows].astype(np.float64)
    sample_weight = None if sample_weight is None else sample_weight[rows]
    groups = None if groups is None else groups[rows]
    tune = _tuner(metric, proba.shape[1])
    task = "binary" if proba.shape[1] == 2 else "multiclass"
    folds = fold_ids(y, FOLDS, task, seed, groups)
    honest = np.empty(len(y), dtype=np.int64)
    for k in range(folds.max() + 1):
        fit, held = folds != k, folds == k
        honest[held] = tune(metric, y[fit], proba[fit], _of(sample_weight, fit)).labels(proba[held])
    n_classes = proba.shape[1]
    argmax = labels_as_predictions(np.argmax(proba, axis=1), n_classes)
    tuned = labels_as_predictions(honest, n_classes)
    p = win_probability(metric, y, tuned, argmax, task=task, seed=seed, sample_weight=sample_weight)
    rule = tune(metric, y, proba, sample_weight) if p > 0.5 else ARGMAX
    report = {"argmax_score": metric.score(y, argmax, sample_weight),
              "tuned_score": metric.score(y, tuned, sample_weight), "win_probability": p,
              "rule": rule.describe()}
    return rule, report


def _tuner(metric: Metric, n_classes: int):
    if n_classes == 2:
        return best_threshold
    if metric.name == "qwk" or "kappa" in metric.name:
        return best_cut_points
    return best_class_weights


def best_threshold(metric: Metric, y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None) -> DecisionRule:
    """The candidate threshold with the best metric on these rows (the nearest to 0.5 among ties)."""
    candidates = np.union1d(np.unique(np.quantile(proba[:, 1], np.linspace(0, 1, MAX_CANDIDATES))), [0.5])
    labels = (proba[None, :, 1] >= candidates[:, None]).astype(np.int64)
    losses = metric.losses_of_labels(y, labels, 2, weight)
    ties = np.flatnonzero(losses <= losses.min() + 1e-12)
    return DecisionRule("threshold", (float(candidates[ties[np.argmin(np.abs(candidates[ties] - 0.5))]]),))


def best_class_weights(metric: Metric, y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None) -> DecisionRule:
    """Per-class weights by coordinate ascent: each class's weight scaled by the best of
    ``CLASS_SCALES`` with the others held, ``WEIGHT_PASSES`` times over the classes."""
    n_classes = proba.shape[1]
    weights = np.ones(n_classes)
    best = metric.losses_of_labels(y, np.argmax(proba, axis=1), n_classes, weight)[0]
    for _ in range(WEIGHT_PASSES):
        for c in range(n_classes):
            trials = np.repeat(weights[None, :], len(CLASS_SCALES), axis=0)
            trials[:, c] *= CLASS_SCALES
            losses = metric.losses_of_labels(y, np.argmax(proba[None] * trials[:, None, :], axis=2), n_classes, weight)
            if losses.min() < best - 1e-12:
                best, weights = float(losses.min()), trials[int(np.argmin(losses))]
    return DecisionRule("class_weights", tuple(float(w) for w in weights / weights.max()))


def best_cut_points(metric: Metric, y: np.ndarray, proba: np.ndarray, weight: np.ndarray | None) -> DecisionRule:
    """Cut-points on the expected class index, each moved by the best of ``CUT_OFFSETS`` with the
    others held (kept increasing), two passes; they start half-way between the classes."""
    n_classes = proba.shape[1]
    expected = expected_class(proba)
    cuts = np.arange(n_classes - 1) + 0.5
    best = metric.losses_of_labels(y, cut_labels(expected, cuts), n_classes, weight)[0]
    for _ in range(WEIGHT_PASSES):
        for c in range(n_classes - 1):
            trials = np.repeat(cuts[None, :], len(CUT_OFFSETS), axis=0)
            trials[:, c] = c + 0.5 + CUT_OFFSETS
            trials = trials[(np.diff(trials, axis=1) > 0).all(axis=1)]  # cut-points stay increasing
            labels = np.stack([cut_labels(expected, t) for t in trials])
            losses = metric.losses_of_labels(y, labels, n_classes, weight)
            if losses.min() < best - 1e-12:
                best, cuts = float(losses.min()), trials[int(np.argmin(losses))]
    return DecisionRule("cut_points", tuple(float(c) for c in cuts))


def _tuning_rows(n_rows: int, seed: int) -> np.ndarray:
    if n_rows <= MAX_TUNING_ROWS:
        return np.arange(n_rows)
    return np.sort(np.random.default_rng(seed).choice(n_rows, MAX_TUNING_ROWS, replace=False))


def _of(values: np.ndarray | None, rows: np.ndarray) -> np.ndarray | None:
    return None if values is None else values[rows]

"""Calibrated probabilities for metrics that score them as probabilities (log loss, Brier).

An ensemble's probabilities can be systematically over- or under-confident (a mean of models
shrinks towards the middle; boosting early-stopped on a small split can be overconfident). One
map with one or two parameters, fitted on the chosen ensemble's honest OOF probabilities, fixes
that without moving the ranking of rows:
- multiclass: temperature scaling, p' = softmax(log p / T);
- binary: Platt scaling, p' = sigmoid(a * logit(p) + b).
Both minimize the (weighted) log loss.

Each model is calibrated the same way before the ensemble is searched (``calibrate_member``), so
that the search mixes calibrated members: extra trees average fully grown trees into
under-confident probabilities (letter: temperature 0.39, OOF log loss 0.247 -> 0.113), and GES
on raw members kept a mixture whose calibration afterwards could not recover that (letter at
30 s: the fit's test log loss 0.136 with raw members, 0.093 with calibrated ones).

The ensemble's map is kept only on evidence, by the rule that lets GES
replace the single best model (``ensemble.evidence``): cross-fitted over 5 folds of the OOF rows
(whole groups per fold), the calibrated probabilities must beat the raw ones in the fit's metric on
more than half of paired bootstrap resamples; the map ``predict_proba`` applies is then fitted on
all OOF rows. The report gives the metric and the expected calibration error (ECE) before and after.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from .ensemble.evidence import win_probability
from .folds import fold_ids
from .metrics import EPS, METRICS, Metric
from .persistence import KindAndValues

# Metrics that reward calibrated probabilities (names as ``get_metric`` gives them).
CALIBRATED_METRICS = frozenset({"log_loss", "brier_score"})
FOLDS = 5
# A member's map is fitted on at most this many of its OOF rows: one or two parameters need few,
# and a temperature on all of letter's 15,000 rows x 26 classes took 0.17 s a fit, six per member.
MEMBER_ROWS = 5_000
# A member's map is kept only when it lowers the cross-fitted loss by at least this fraction. Its
# test predictions are the mean of its fold copies (or a refit), calibrated differently from the
# one copy behind each OOF row, so a small correction does not carry over: over 93 maps of 6 dev
# tables x 2 splits (30 s fits), the 36 that gained under 2% out of fold lost on test in 24 cases
# (median -0.4%; every boosting map on wine_quality_white), the 57 above it in 5 (median +21%).
MEMBER_MIN_GAIN = 0.02
ECE_BINS = 15


@dataclass(frozen=True)
class Calibration(KindAndValues):
    """``none``; ``temperature`` (values: T); ``platt`` (values: a, b)."""

    KINDS = ("none", "temperature", "platt")
    kind: str = "none"
    values: tuple[float, ...] = ()

    def apply(self, proba: np.ndarray) -> np.ndarray:
        if self.kind == "temperature":
            return _softmax(np.log(np.clip(proba, EPS, 1.0)) / self.values[0])
        if self.kind == "platt":
            a, b = self.values
            positive = _sigmoid(a * _logit(proba[:, 1]) + b)
            return np.column_stack([1.0 - positive, positive])
        return proba

    def describe(self) -> str:
        if self.kind == "temperature":
            return f"temperature {self.values[0]:.3f}"
        if self.kind == "platt":
            return f"Platt a={self.values[0]:.3f}, b={self.values[1]:.3f}"
        return "none"



NONE = Calibration()


def fit_calibration(y: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None) -> Calibration:
    """The temperature (multiclass) or Platt map (binary) of least (weighted) log loss on these rows."""
    if proba.shape[1] == 2:
        def platt_loss(ab):
            return _log_loss(y, Calibration("platt", tuple(ab)).apply(proba), sample_weight)
        a, b = minimize(platt_loss, np.array([1.0, 0.0]), method="L-BFGS-B", bounds=[(1e-3, 100.0), (-20.0, 20.0)]).x
        return Calibration("platt", (float(a), float(b)))
    logs = np.log(np.clip(proba, EPS, 1.0))

    def temperature_loss(log_t):
        return _log_loss(y, _softmax(logs / np.exp(log_t)), sample_weight)
    log_t = minimize_scalar(temperature_loss, bounds=(-3.0, 3.0), method="bounded").x
    return Calibration("temperature", (float(np.exp(log_t)),))


def tune_calibration(metric: Metric, y: np.ndarray, proba: np.ndarray, *, sample_weight: np.ndarray | None = None,
                     groups: np.ndarray | None = None, seed: int = 0) -> tuple[Calibration, dict]:
    """(calibration, report) for a classification task's honest OOF probabilities; ``NONE`` when
    the metric does not score calibration or calibrating does not win on evidence."""
    if metric.name not in CALIBRATED_METRICS or proba.ndim != 2 or proba.shape[1] < 2:
        return NONE, {}
    proba = normalized(proba)
    task = "binary" if proba.shape[1] == 2 else "multiclass"
    honest = _cross_fitted(y, proba, fold_ids(y, FOLDS, task, seed, groups), sample_weight)
    p = win_probability(metric, y, honest, proba, task=task, seed=seed, sample_weight=sample_weight)
    calibration = fit_calibration(y, proba, sample_weight) if p > 0.5 else NONE
    report = {"raw_score": metric.score(y, proba, sample_weight),
              "calibrated_score": metric.score(y, honest, sample_weight),
              "raw_ece": expected_calibration_error(y, proba, sample_weight),
              "calibrated_ece": expected_calibration_error(y, honest, sample_weight), "win_probability": p,
              "calibration": calibration.describe()}
    return calibration, report


def normalized(raw: np.ndarray) -> np.ndarray:
    """Rows of model output as probabilities: float64, each row summing to 1."""
    raw = np.asarray(raw, dtype=np.float64)
    return raw / raw.sum(axis=1, keepdims=True)


def calibrate_member(metric: Metric, y: np.ndarray, oof: np.ndarray, fold_of: np.ndarray,
                     sample_weight: np.ndarray | None = None, seed: int = 0) -> tuple[Calibration, np.ndarray]:
    """(map, OOF predictions to store) for one model's OOF probabilities: the map fitted on them,
    and them calibrated cross-fitted on the fit's folds (``fold_of``; whole groups stay apart), so
    they stay honest; ``NONE`` and ``oof`` unchanged when the metric does not score calibration or
    the cross-fitted calibration does not lower the loss by ``MEMBER_MIN_GAIN``."""
    if metric.name not in CALIBRATED_METRICS or oof.ndim != 2 or oof.shape[1] < 2:
        return NONE, oof
    proba = normalized(oof)
    rng = np.random.default_rng(seed)
    folds = fold_of * FOLDS // (int(fold_of.max()) + 1)  # whole folds of the plan, at most FOLDS
    honest = _cross_fitted(y, proba, folds, sample_weight, rng)
    if metric.loss(y, honest, sample_weight) > (1.0 - MEMBER_MIN_GAIN) * metric.loss(y, proba, sample_weight):
        return NONE, oof
    rows = _sample(np.arange(len(y)), rng)
    calibration = fit_calibration(y[rows], proba[rows], None if sample_weight is None else sample_weight[rows])
    return calibration, honest.astype(oof.dtype)


def _cross_fitted(y: np.ndarray, proba: np.ndarray, folds: np.ndarray, sample_weight: np.ndarray | None,
                  rng: np.random.Generator | None = None) -> np.ndarray:
    """Each fold's rows calibrated by the map fitted on the other folds' rows (at most MEMBER_ROWS
    of them when ``rng`` samples)."""
    honest = np.empty_like(proba)
    for k in np.unique(folds):
        fit = np.flatnonzero(folds != k)
        fit = fit if rng is None else _sample(fit, rng)
        held = folds == k
        honest[held] = fit_calibration(y[fit], proba[fit], None if sample_weight is None else sample_weight[fit]
                                       ).apply(proba[held])
    return honest


def _sample(rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    return rows if len(rows) <= MEMBER_ROWS else np.sort(rng.choice(rows, MEMBER_ROWS, replace=False))


def expected_calibration_error(y: np.ndarray, proba: np.ndarray, sample_weight: np.ndarray | None = None,
                               bins: int = ECE_BINS) -> float:
    """Top-label ECE: rows binned by their highest probability (``bins`` equal widths); the
    (weighted) mean over bins of |accuracy - confidence|, each bin weighed by its share of rows."""
    weight = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == y).astype(np.float64)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    total = np.bincount(which, weight, bins)
    gap = np.bincount(which, weight * (correct - confidence), bins)
    return float(np.abs(gap).sum() / total.sum())


def _log_loss(y, proba, weight) -> float:
    return METRICS["log_loss"].score(y, proba, weight)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1.0 - EPS)
    return np.log(p) - np.log1p(-p)

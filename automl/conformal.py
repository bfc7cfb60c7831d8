"""How sure a prediction is: conformal intervals (regression) and prediction sets (classification),
calibrated on the chosen ensemble's honest OOF predictions, at almost no cost.

Regression (locally adaptive split-conformal on cross-fitted residuals, in the spirit of CV+):
- a difficulty model sigma(x) (a small LightGBM on the encoded features) learns the OOF absolute
  residuals |y - y_oof|; it is cross-fitted over the fit's folds, so each row's difficulty comes
  from a model that never saw its residual;
- each row's score is its signed residual scaled by its difficulty, u = (y - y_oof) / sigma(x);
- an interval of coverage c is y_hat(x) +- q * sigma(x), q the ceil((n + 1) c)-th smallest |u|;
  a quantile tau is y_hat(x) + (the tau-quantile of u) * sigma(x).
The OOF predictions are honest (a model never saw the row it predicted), so the scores are
exchangeable with a new row's, which is what the coverage guarantee needs (CV+ guarantees 1 - 2a,
and is near 1 - a in practice). With groups, rows of one group are not exchangeable with each
other: each row is weighed 1 / its group's size, so every group counts once.

Classification (adaptive prediction sets, Romano et al. 2020): a class's score is the total
probability of the classes more probable than it plus half its own (APS's randomized score at its
mean draw, so deterministic; counting all of its own, on a binary table with 82% accuracy every set
held both classes); a row's calibration score is its true class's. A set of coverage c holds the
classes whose score is at most the calibration scores' weighted ceil((n + 1) c)-th smallest (so the
true class is in it exactly when its score is), and always the most probable class.
"""
from __future__ import annotations

import numpy as np

from .data.encoder import EncodedTable
from .models.base import TaskInfo
from .models.lightgbm import LightGBMModel

# Small and slow-learning: the difficulty only has to rank rows, and must not chase noise.
DIFFICULTY_PARAMS = {"max_rounds": 100, "learning_rate": 0.05, "num_leaves": 15, "min_data_in_leaf": 50,
                     "feature_fraction": 0.8}
# Scores kept in a model folder at most (an evenly spaced subset of the sorted ones).
MAX_SCORES = 20_000


def check_coverage(coverage: float) -> float:
    if not isinstance(coverage, (int, float, np.floating)) or not 0 < coverage < 1:
        raise ValueError(f"coverage must be a number in (0, 1), e.g. 0.9; got {coverage!r}.")
    return float(coverage)


def weighted_quantile(values: np.ndarray, weights: np.ndarray, level: float) -> float:
    """The conformal quantile: the smallest value v with (weight of values <= v) >= level x
    (total weight + one row's mean weight), i.e. ceil((n + 1) level)-th smallest when weights are
    equal; infinite when no value reaches it (too few rows for that coverage)."""
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    target = level * (cumulative[-1] + cumulative[-1] / len(values))
    position = int(np.searchsorted(cumulative, target - 1e-12 * cumulative[-1]))
    return float(values[order][position]) if position < len(values) else np.inf


def group_weights(groups: np.ndarray | None, n_rows: int) -> np.ndarray:
    """1 per row, or 1 / its group's size (every group counts once)."""
    if groups is None:
        return np.ones(n_rows)
    _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    return 1.0 / counts[inverse.ravel()]


def kept_scores(scores: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scores, weights) sorted, at most ``MAX_SCORES`` of them (evenly spaced in the sorted order)."""
    order = np.argsort(scores, kind="stable")
    if len(order) > MAX_SCORES:
        order = order[np.linspace(0, len(order) - 1, MAX_SCORES).astype(int)]
    return scores[order], weights[order]


class RegressionConformal:
    """Scaled residual scores and the difficulty model that scales them."""

    def fit(self, features: EncodedTable, y: np.ndarray, oof: np.ndarray, fold_of: np.ndarray,
            groups: np.ndarray | None = None, n_threads: int = 1, seed: int = 0,
            adaptive: bool = True) -> "RegressionConformal":
        """Scores from OOF predictions ``oof`` of ``y``; ``adaptive=False`` leaves out the
        difficulty model (every interval has the same width)."""
        residuals = np.asarray(y, dtype=np.float64) - np.asarray(oof, dtype=np.float64)
        # A difficulty this small (5% of the mean residual) would blow a score up.
        self.floor_ = max(float(np.mean(np.abs(residuals))) * 0.05, 1e-12)
        difficulty = np.ones(len(y))
        self.difficulty_ = None
        if adaptive:
            for k in np.unique(fold_of):
                train, held = fold_of != k, fold_of == k
                model = self._difficulty_model(features.take(np.flatnonzero(train)), np.abs(residuals[train]),
                                               n_threads, seed)
                difficulty[held] = model.predict(features.take(np.flatnonzero(held)))[:, 0]
            self.difficulty_ = self._difficulty_model(features, np.abs(residuals), n_threads, seed)
        # Without a difficulty model every row's scale is 1: the floor is for predicted scales only.
        scores = residuals / (np.maximum(difficulty, self.floor_) if adaptive else difficulty)
        self.scores_, self.weights_ = kept_scores(scores, group_weights(groups, len(y)))
        return self

    @staticmethod
    def _difficulty_model(features: EncodedTable, target: np.ndarray, n_threads: int, seed: int) -> LightGBMModel:
        return LightGBMModel(DIFFICULTY_PARAMS, TaskInfo("regression", 0), seed=seed, n_threads=n_threads).fit(
            features, target)

    def difficulty(self, features: EncodedTable) -> np.ndarray:
        if self.difficulty_ is None:
            return np.ones(len(features))
        return np.maximum(self.difficulty_.predict(features)[:, 0].astype(np.float64), self.floor_)

    def interval(self, prediction: np.ndarray, features: EncodedTable, coverage: float) -> np.ndarray:
        half = weighted_quantile(np.abs(self.scores_), self.weights_, coverage) * self.difficulty(features)
        return np.column_stack([prediction - half, prediction + half])

    def quantiles(self, prediction: np.ndarray, features: EncodedTable, levels) -> np.ndarray:
        scale = self.difficulty(features)
        offsets = [weighted_quantile(self.scores_, self.weights_, level) for level in levels]
        return np.column_stack([prediction + offset * scale for offset in offsets])

    def get_state(self) -> dict:
        return {"difficulty": None if self.difficulty_ is None else self.difficulty_.get_state(),
                "floor": self.floor_, "scores": self.scores_, "weights": self.weights_}

    @classmethod
    def from_state(cls, state: dict) -> "RegressionConformal":
        conformal = cls()
        conformal.difficulty_ = None if state["difficulty"] is None else LightGBMModel.from_state(state["difficulty"])
        conformal.floor_, conformal.scores_, conformal.weights_ = state["floor"], state["scores"], state["weights"]
        return conformal


class ClassificationConformal:
    """Adaptive-prediction-set scores of honest OOF probabilities."""

    def fit(self, y: np.ndarray, proba: np.ndarray, groups: np.ndarray | None = None) -> "ClassificationConformal":
        scores = aps_scores(proba, y)
        self.scores_, self.weights_ = kept_scores(scores, group_weights(groups, len(y)))
        return self

    def sets(self, proba: np.ndarray, coverage: float) -> np.ndarray:
        """Boolean (rows, classes): the classes whose score is within the threshold, and the most
        probable one."""
        threshold = weighted_quantile(self.scores_, self.weights_, coverage)
        sets = class_scores(proba) <= threshold + 1e-12
        sets[np.arange(len(proba)), np.argmax(proba, axis=1)] = True
        return sets

    def get_state(self) -> dict:
        return {"scores": self.scores_, "weights": self.weights_}

    @classmethod
    def from_state(cls, state: dict) -> "ClassificationConformal":
        conformal = cls()
        conformal.scores_, conformal.weights_ = state["scores"], state["weights"]
        return conformal


def class_scores(proba: np.ndarray) -> np.ndarray:
    """(rows, classes): each class's total probability of the classes at least as probable as it,
    less half its own."""
    at_least = proba[:, None, :] >= proba[:, :, None]  # [row, class, other]: other ranks at or above class
    return (at_least * proba[:, None, :]).sum(axis=2) - proba / 2


def aps_scores(proba: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Each row's true class's score (``class_scores``)."""
    return class_scores(proba)[np.arange(len(y)), y]

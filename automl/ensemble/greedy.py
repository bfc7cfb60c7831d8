"""Greedy ensemble selection with replacement (Caruana et al. 2004).

Keeps a running sum S of the chosen members' predictions; each step adds the model j that
minimizes loss((S + P_j) / (s + 1)). Weights are counts / steps at the best step seen
(truncation). Ties go to models already chosen, then to the better single model.
``sorted_init`` starts from up to that many of the best single models, in order, each kept
only while it improves the mixture (Caruana's sorted initialization). Candidates are scored
by MixtureLoss, which reads only what the metric needs (true-class column for log loss, the
running residual's column for RMSE, the scored columns for ROC AUC).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..metrics import Metric
from .base import WeightedEnsemble, counts_to_weights
from .mixture_loss import MixtureLoss

# Losses closer than this (relative) are ties: candidates are scored in float32.
TIE_TOLERANCE = 1e-7


class GreedyEnsemble(WeightedEnsemble):
    name = "ges"
    # A weighted mean of OOF predictions, fitted on few parameters: it replaces the single best
    # model whenever it is the better one more often than not.
    evidence_needed = 0.5
    complexity = 1
    chain_step = 1
    chain_description = "GES"

    def __init__(self, metric: Metric, task: str, seed: int = 0, n_iterations: int = 50, sorted_init: int = 0,
                 n_threads: int = 1):
        super().__init__(metric, task, seed, n_threads)
        if n_iterations < 1:
            raise ValueError(f"n_iterations must be at least 1, got {n_iterations}.")
        self.n_iterations = n_iterations
        self.sorted_init = sorted_init

    def fit(self, data, budget=None):
        loss = MixtureLoss(self.metric, data.predictions, data.y, data.sample_weight, self.n_threads)
        single = loss.of_each_model()
        path = GesPath.start(loss)
        for j, value in self._sorted_start(loss, single):
            path.add(j, value, loss)
        while path.steps < self.n_iterations:
            losses = path.losses(loss, single)
            j = pick(losses, path.counts, single)
            path.add(j, losses[j], loss)
        self.oof_loss_, self.weights_ = path.best()
        return self

    @classmethod
    def suggest(cls, trial, search):
        params = {"n_iterations": cls.suggest_iterations(trial),
                  "sorted_init": trial.suggest_categorical("ges_sorted_init", [0, 3, 5])}
        return params, search.suggest_pool(trial)

    @staticmethod
    def suggest_iterations(trial) -> int:
        """GES's steps, one search parameter shared with the GES on top of stacking."""
        return trial.suggest_int("ges_iterations", 25, 100, step=25)

    def _sorted_start(self, loss: MixtureLoss, single: np.ndarray):
        """(model, loss) of the best single models that each still improve the mixture, in order."""
        order = np.argsort(single, kind="stable")[:self.sorted_init] if self.sorted_init > 1 else []
        running, current = loss.empty_sum(), np.inf
        for count, j in enumerate(order):
            value = float(loss.of_additions(running, count, models=[j])[0])
            if value >= current - tolerance(current):
                break
            running += loss.columns[j]
            current = value
            yield j, value


@dataclass
class GesPath:
    """One GES run: the running sum of the picked columns, each model's count, and the (loss,
    counts) of every step. ``GreedyEnsemble`` walks one path; the portfolio selection
    (``automl.portfolio.select``) walks many that share their first steps."""

    running: np.ndarray
    counts: np.ndarray
    history: list[tuple[float, np.ndarray]] = field(default_factory=list)

    @classmethod
    def start(cls, loss: MixtureLoss) -> "GesPath":
        return cls(loss.empty_sum(), np.zeros(len(loss.columns)))

    @property
    def steps(self) -> int:
        return len(self.history)

    def losses(self, loss: MixtureLoss, single: np.ndarray, models=None) -> np.ndarray:
        """The loss of adding each of ``models`` (default: every model) next."""
        if not self.steps:
            return single if models is None else single[models]
        return loss.of_additions(self.running, self.steps, models=models)

    def add(self, j: int, value: float, loss: MixtureLoss) -> None:
        """Picks model ``j``, whose addition scored ``value``."""
        self.running += loss.columns[j]
        self.counts[j] += 1
        self.history.append((float(value), self.counts.copy()))

    def copy(self) -> "GesPath":
        return GesPath(self.running.copy(), self.counts.copy(), list(self.history))

    def best(self) -> tuple[float, np.ndarray]:
        """(loss, weights) at the best step: the truncation GES keeps."""
        value, counts = self.history[best_step([v for v, _ in self.history])]
        return value, counts_to_weights(counts)


def pick(losses: np.ndarray, counts: np.ndarray, single: np.ndarray) -> int:
    """The best candidate; ties go to models already chosen, then to the better single model."""
    ties = np.flatnonzero(losses <= losses.min() + tolerance(losses.min()))
    chosen = ties[counts[ties] > 0]
    pool = chosen if len(chosen) else ties
    return int(pool[np.argmin(single[pool])])


def best_step(values) -> int:
    """The step whose loss is lowest: the earliest of ties (truncation keeps the smaller ensemble)."""
    values = np.asarray(values)
    return int(np.flatnonzero(values <= values.min() + tolerance(values.min()))[0])


def tolerance(value: float) -> float:
    return TIE_TOLERANCE * max(1.0, abs(value)) if np.isfinite(value) else 0.0

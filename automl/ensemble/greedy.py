"""Greedy ensemble selection with replacement (Caruana et al. 2004).

Keeps a running sum S of the chosen members' predictions; each step adds the model j that
minimizes loss((S + P_j) / (s + 1)). Weights are counts / steps at the best step seen
(truncation). Ties go to models already chosen, then to the better single model.
Log loss and squared error have vectorized paths that score all candidates at once.
"""
from __future__ import annotations

import numpy as np

from ..metrics import EPS, Metric
from .base import WeightedEnsemble


class GreedyEnsemble(WeightedEnsemble):
    name = "ges"

    def __init__(self, metric: Metric, task: str, seed: int = 0, n_iterations: int = 50):
        super().__init__(metric, task, seed)
        self.n_iterations = n_iterations

    def fit(self, predictions, y, features=None):
        n_models = predictions.shape[0]
        candidate_losses = self._candidate_scorer(predictions, y)
        single = candidate_losses(np.zeros(predictions.shape[1:]), 0)
        counts = np.zeros(n_models)
        running = np.zeros(predictions.shape[1:], dtype=np.float64)
        best_loss, best_counts = np.inf, None
        for step in range(self.n_iterations):
            losses = single if step == 0 else candidate_losses(running, step)
            ties = np.flatnonzero(losses <= losses.min() + 1e-12)
            chosen = ties[counts[ties] > 0] if (counts[ties] > 0).any() else ties
            j = chosen[np.argmin(single[chosen])]
            running += predictions[j]
            counts[j] += 1
            if losses[j] < best_loss - 1e-12:
                best_loss, best_counts = losses[j], counts.copy()
        self.weights_ = best_counts / best_counts.sum()
        self.oof_loss_ = best_loss
        return self

    def _candidate_scorer(self, predictions, y):
        """A function (running sum, step) -> loss of adding each model, for all models at once."""
        if self.metric.name == "log_loss":
            rows, cols = np.arange(len(y)), y.astype(int)
            true_class = predictions[:, rows, cols].astype(np.float64)  # [m, n]: all log loss reads
            return lambda running, step: -np.mean(
                np.log(np.clip((running[rows, cols][None] + true_class) / (step + 1), EPS, None)), axis=1)
        if self.metric.name == "rmse":
            values = predictions[:, :, 0].astype(np.float64)  # [m, n]
            return lambda running, step: np.sqrt(np.mean(
                ((running[:, 0][None] + values) / (step + 1) - y[None]) ** 2, axis=1))
        return lambda running, step: np.array(
            [self.metric.loss(y, (running + p) / (step + 1)) for p in predictions])

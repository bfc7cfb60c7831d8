"""CMA-ES ensemble weights (Purucker & Beel 2023), normalized into a GES-like sparse ensemble.

CMA-ES (the ``cmaes`` package, Optuna's own CMA-ES backend) searches real-valued scores x, one
per model, starting from the single best model, for 50 evaluations per model. Raw weights
overfit (ROC AUC most), so every candidate is scored after the normalization that is also
used at the end: softmax of x, weights of at most 1% dropped, the rest rounded to counts out
of 50. The optimizer therefore only ever sees ensembles that GES could also have built.
"""
from __future__ import annotations

import cmaes
import numpy as np

from ..metrics import Metric
from .base import WeightedEnsemble, counts_to_weights
from .mixture_loss import MixtureLoss

MIN_WEIGHT, N_COUNTS = 0.01, 50
# Starting softmax margin of the single best model over the others: it holds ~90% of the weight.
START_MARGIN = 2.2


class CmaEsEnsemble(WeightedEnsemble):
    name = "cmaes"
    complexity = 2

    def __init__(self, metric: Metric, task: str, seed: int = 0, evaluations_per_model: int = 50,
                 sigma: float = 1.0, n_threads: int = 1):
        super().__init__(metric, task, seed, n_threads)
        self.evaluations_per_model = evaluations_per_model
        self.sigma = sigma

    def fit(self, data, budget=None):
        loss = MixtureLoss(self.metric, data.predictions, data.y, data.sample_weight, self.n_threads)
        n_models = data.n_models
        single = loss.of_each_model()
        start = np.zeros(n_models)
        start[np.argmin(single)] = START_MARGIN + np.log(n_models)
        best_counts, best_loss = np.eye(n_models)[np.argmin(single)], float(single.min())
        if n_models > 1:
            optimizer = cmaes.CMA(mean=start, sigma=self.sigma, seed=self.seed)
            evaluations = 0
            while evaluations < self.evaluations_per_model * n_models and not (budget and budget.expired()):
                xs = np.array([optimizer.ask() for _ in range(optimizer.population_size)])
                counts = np.array([to_counts(x) for x in xs])
                losses = loss.of_weights(counts)
                optimizer.tell(list(zip(xs, losses)))
                evaluations += len(xs)
                if losses.min() < best_loss:
                    best_loss, best_counts = float(losses.min()), counts[np.argmin(losses)]
        self.weights_ = counts_to_weights(best_counts)
        self.oof_loss_ = best_loss
        return self


def to_counts(x: np.ndarray) -> np.ndarray:
    """Scores -> counts out of 50: softmax, drop weights <= 1%, round (at least the top model)."""
    weights = np.exp(x - x.max())
    weights /= weights.sum()
    weights[(weights <= MIN_WEIGHT) & (x < x.max())] = 0.0  # the top model always stays
    counts = np.round(weights / weights.sum() * N_COUNTS)
    counts[np.argmax(x)] = max(counts[np.argmax(x)], 1)
    return counts

"""The single model with the best OOF score."""
from __future__ import annotations

import numpy as np

from .base import WeightedEnsemble
from .mixture_loss import MixtureLoss


class SingleBest(WeightedEnsemble):
    name = "best"
    complexity = 0
    chain_step = 0
    chain_description = "the single best model"

    def fit(self, data, budget=None):
        loss = MixtureLoss(self.metric, data.predictions, data.y, data.sample_weight, self.n_threads)
        losses = loss.of_each_model()  # fast paths, all models at once
        self.weights_ = np.zeros(data.n_models)
        self.weights_[int(np.argmin(losses))] = 1.0
        return self

    @classmethod
    def suggest(cls, trial, search):
        return {}, None  # the best of all models: a pool could only hide it

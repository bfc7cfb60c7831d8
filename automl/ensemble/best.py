"""The single model with the best OOF score."""
from __future__ import annotations

import numpy as np

from .base import WeightedEnsemble
from .mixture_loss import MixtureLoss


class SingleBest(WeightedEnsemble):
    name = "best"
    complexity = 0

    def fit(self, predictions, y, features=None, *, sample_weight=None, **store_info):
        losses = MixtureLoss(self.metric, predictions, y, sample_weight).of_each_model()  # fast paths, all models at once
        self.weights_ = np.zeros(len(predictions))
        self.weights_[int(np.argmin(losses))] = 1.0
        return self

    @classmethod
    def suggest(cls, trial, search):
        return {}, None  # the best of all models: a pool could only hide it

"""The single model with the best OOF score."""
from __future__ import annotations

import numpy as np

from .base import WeightedEnsemble


class SingleBest(WeightedEnsemble):
    name = "best"

    def fit(self, predictions, y, features=None, **store_info):
        losses = [self.metric.loss(y, p) for p in predictions]
        self.weights_ = np.zeros(len(predictions))
        self.weights_[int(np.argmin(losses))] = 1.0
        return self

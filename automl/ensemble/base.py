"""The interface of ensemble strategies: fit on stored OOF predictions, predict from new ones.

``predictions`` is always an array [n_models, n_rows, n_outputs] in the order of the
PredictionStore. ``features`` (the encoded table of the same rows) is given for strategies
that need it (stacking, dynamic selection) and ignored by the others.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

import numpy as np

from ..data.encoder import EncodedTable
from ..metrics import Metric


class EnsembleStrategy(ABC):
    name: ClassVar[str]

    def __init__(self, metric: Metric, task: str, seed: int = 0):
        self.metric = metric
        self.task = task
        self.seed = seed

    @abstractmethod
    def fit(self, predictions: np.ndarray, y: np.ndarray,
            features: EncodedTable | None = None) -> "EnsembleStrategy":
        ...

    @abstractmethod
    def predict(self, predictions: np.ndarray, features: EncodedTable | None = None) -> np.ndarray:
        ...

    @property
    @abstractmethod
    def used_models(self) -> np.ndarray:
        """Indices of the models whose predictions ``predict`` reads; the others may be zeros."""


class WeightedEnsemble(EnsembleStrategy):
    """An ensemble that is a weighted mean of its members' predictions (``weights_`` sums to 1)."""

    weights_: np.ndarray

    def predict(self, predictions, features=None):
        used = self.used_models
        return np.tensordot(self.weights_[used], predictions[used].astype(np.float64), axes=1).astype(np.float32)

    @property
    def used_models(self) -> np.ndarray:
        return np.flatnonzero(self.weights_ > 0)

"""EnsembleData: the one input every ensemble strategy fits on."""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Sequence

import numpy as np

from ..data.encoder import EncodedTable


@dataclass(frozen=True)
class EnsembleData:
    """Stored OOF predictions [n_models, n_rows, n_outputs] and what comes with their rows and models.

    ``features`` (the encoded rows) is read by strategies that look at the rows (stacking, dynamic
    selection); ``fold_of`` (the fold plan the predictions came from) by stacking, which bags its
    next-layer models on the same folds; ``records`` (per-model family and parameters) by QDO's
    diversity measure; ``sample_weight`` by every loss a strategy minimizes; ``groups`` by stacking's
    next-layer models, which early-stop on whole groups. None: not available / every row the same.
    """

    predictions: np.ndarray
    y: np.ndarray
    features: EncodedTable | None = None
    fold_of: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    groups: np.ndarray | None = None
    records: Sequence | None = None

    @classmethod
    def from_store(cls, store) -> "EnsembleData":
        """Everything a ``PredictionStore`` holds, for every stored model."""
        return cls(store.oof, store.y, store.features, store.fold_of, store.sample_weight, store.groups,
                   tuple(store.records))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def n_models(self) -> int:
        return len(self.predictions)

    def take(self, rows: np.ndarray) -> "EnsembleData":
        """These rows of every model."""
        def of(values):
            return None if values is None else values[rows]
        return replace(self, predictions=self.predictions[:, rows], y=self.y[rows],
                       features=None if self.features is None else self.features.take(rows),
                       fold_of=of(self.fold_of), sample_weight=of(self.sample_weight), groups=of(self.groups))

    def of_models(self, models: np.ndarray) -> "EnsembleData":
        """Every row of these models (indices into ``predictions``)."""
        records = None if self.records is None else tuple(self.records[j] for j in models)
        return replace(self, predictions=self.predictions[np.asarray(models)], records=records)

    def with_predictions(self, predictions: np.ndarray) -> "EnsembleData":
        """The same rows with other prediction columns (a next layer's, for instance)."""
        return replace(self, predictions=predictions, records=None)

"""TrainingData: the rows every model of a fit trains on, and what comes with each row."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .encoder import EncodedTable


@dataclass(frozen=True)
class TrainingData:
    """Encoded features, the encoded target, and per row a weight and a group (None: every row
    weighs the same; rows are independent). Groups are integer ids: every split of a fit keeps a
    group's rows on one side (``automl.folds``)."""

    X: EncodedTable
    y: np.ndarray
    sample_weight: np.ndarray | None = None
    groups: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.y)

    def take(self, rows: np.ndarray) -> "TrainingData":
        return TrainingData(self.X.take(rows), self.y[rows],
                            None if self.sample_weight is None else self.sample_weight[rows],
                            None if self.groups is None else self.groups[rows])

    def weight_of(self, rows: np.ndarray) -> np.ndarray | None:
        return None if self.sample_weight is None else self.sample_weight[rows]

    def groups_of(self, rows: np.ndarray) -> np.ndarray | None:
        return None if self.groups is None else self.groups[rows]

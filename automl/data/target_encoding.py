"""Out-of-fold target encoding of the high-cardinality columns, for the families that are
``target_encoded`` (all but CatBoost, whose ordered target statistics read the raw levels
themselves, and TabM, whose embeddings of the kept levels did better on small tables).

The columns are those the encoder keeps raw codes of (``EncodedTable.raw``: string columns with
many levels, rare ones included). Each fold copy fits its own encoding on the rows it trains on,
with scikit-learn's ``TargetEncoder``: those rows are cross-fitted (each encoded from the others,
split by the fit's own fold rule, so whole groups stay apart), every other row (early-stopping
rows, the copy's held-out rows, new rows) is encoded from all of them. No row's encoding ever
used its own target, so the copies' out-of-fold predictions stay honest.

An encoding is a smoothed mean of the target per level (per class for more than two classes);
levels the copy never saw get the mean of its rows. Sample weights are not used: scikit-learn's
encoder takes none.
"""
from __future__ import annotations

import numpy as np

from ..folds import fold_ids

# Folds of the cross-fit inside a copy's rows (scikit-learn's default).
CROSS_FIT_FOLDS = 5


class TargetEncoding:
    """Per raw column, its training levels (sorted codes), their encodings and the prior."""

    def __init__(self, task: str, seed: int):
        self.task = task
        self.seed = seed

    def fit_transform(self, raw: np.ndarray, raw_names: list[str], y: np.ndarray,
                      groups: np.ndarray | None = None) -> np.ndarray:
        """Cross-fitted encodings of these training rows, (n, columns) float32; keeps the encoding
        of all of them for ``transform``. No columns when there is nothing to encode from (a single
        class, a single group)."""
        from sklearn.preprocessing import TargetEncoder

        self.levels_, self.encodings_, self.prior_, self.names_ = [], [], np.zeros(0), []
        target_type, target, labels = self._target(y)
        n_folds = min(CROSS_FIT_FOLDS, len(y), len(np.unique(groups)) if groups is not None else len(y))
        if target_type is None or n_folds < 2:
            return np.zeros((len(y), 0), np.float32)
        fold_of = fold_ids(labels, n_folds, self.task, self.seed, groups)
        splits = [(np.flatnonzero(fold_of != k), np.flatnonzero(fold_of == k)) for k in np.unique(fold_of)]
        encoder = TargetEncoder(target_type=target_type, cv=splits)
        crossed = encoder.fit_transform(raw, target)
        outputs = crossed.shape[1] // raw.shape[1]
        self.levels_ = [np.asarray(levels, dtype=np.int32) for levels in encoder.categories_]
        self.encodings_ = [np.column_stack(encoder.encodings_[j * outputs:(j + 1) * outputs]).astype(np.float32)
                           for j in range(raw.shape[1])]
        self.prior_ = np.atleast_1d(encoder.target_mean_).astype(np.float32)
        suffixes = [""] if outputs == 1 else [str(c) for c in encoder.classes_]
        self.names_ = [f"{name}__target{suffix}" for name in raw_names for suffix in suffixes]
        return crossed.astype(np.float32)

    def _target(self, y: np.ndarray) -> tuple[str | None, np.ndarray, np.ndarray]:
        """scikit-learn's target type for these rows (None: nothing to encode), the target it
        encodes, and the labels the fit's fold rule splits on (classes as 0.. without gaps).
        Classes absent from the rows get no column."""
        if self.task == "regression":
            return "continuous", y, y
        classes, labels = np.unique(y, return_inverse=True)
        labels = labels.ravel()
        if len(classes) < 2:
            return None, y, labels
        if len(classes) == 2:  # also a multiclass task whose rows hold two classes
            return "binary", labels.astype(np.int64), labels
        return "multiclass", y, labels

    def transform(self, raw: np.ndarray) -> np.ndarray:
        """Encodings of any rows (levels not seen in training: the prior), (n, columns) float32."""
        columns = []
        for j, (levels, encodings) in enumerate(zip(self.levels_, self.encodings_)):
            position = np.minimum(np.searchsorted(levels, raw[:, j]), len(levels) - 1)
            seen = levels[position] == raw[:, j]
            columns.append(np.where(seen[:, None], encodings[position], self.prior_))
        return np.hstack(columns).astype(np.float32) if columns else np.zeros((len(raw), 0), np.float32)

    def get_state(self) -> dict:
        return {"task": self.task, "seed": self.seed, "names": self.names_, "prior": self.prior_,
                "levels": self.levels_, "encodings": self.encodings_}

    @classmethod
    def from_state(cls, state: dict) -> "TargetEncoding":
        encoding = cls(state["task"], state["seed"])
        encoding.names_, encoding.prior_ = state["names"], np.asarray(state["prior"], np.float32)
        encoding.levels_ = [np.asarray(levels, np.int32) for levels in state["levels"]]
        encoding.encodings_ = [np.asarray(values, np.float32) for values in state["encodings"]]
        return encoding

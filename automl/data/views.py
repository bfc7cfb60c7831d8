"""Per-family views of an EncodedTable.

Trees read numbers and category codes side by side; linear models and kNN need standardized
numbers and one-hot categories, whose statistics are fitted on the rows a model trains on.
"""
from __future__ import annotations

import numpy as np

from .encoder import MISSING_CODE, EncodedTable

# Clip standardized values so one extreme row cannot dominate a linear model or a distance.
CLIP = 5.0


def tree_view(table: EncodedTable) -> tuple[np.ndarray, list[int]]:
    """float32 matrix [numbers | category codes], missing as NaN, and the category column indices."""
    codes = table.categorical.astype(np.float32)
    codes[table.categorical == MISSING_CODE] = np.nan
    matrix = np.hstack([table.numeric, codes]) if codes.size else table.numeric
    start = table.numeric.shape[1]
    return np.ascontiguousarray(matrix, dtype=np.float32), list(range(start, start + codes.shape[1]))


class LinearView:
    """Median-imputed, standardized numbers (+ missing indicators) and one-hot categories."""

    def fit(self, table: EncodedTable) -> "LinearView":
        num = table.numeric.astype(np.float64)
        with np.errstate(all="ignore"):
            self.median_ = np.nan_to_num(np.nanmedian(num, axis=0)) if num.shape[0] else np.zeros(num.shape[1])
        filled = np.where(np.isnan(num), self.median_, num)
        self.mean_ = filled.mean(axis=0)
        std = filled.std(axis=0)
        self.std_ = np.where(std > 0, std, 1.0)
        self.indicator_columns_ = np.flatnonzero(np.isnan(num).any(axis=0))
        self.cardinalities_ = list(table.cardinalities)
        return self

    STATE = ("median_", "mean_", "std_", "indicator_columns_", "cardinalities_")

    def get_state(self) -> dict:
        return {name: getattr(self, name) for name in self.STATE}

    @classmethod
    def from_state(cls, state: dict) -> "LinearView":
        view = cls()
        view.__dict__.update({name: state[name] for name in cls.STATE})
        return view

    def transform(self, table: EncodedTable, dtype=np.float32) -> np.ndarray:
        num = table.numeric.astype(np.float64)
        missing = np.isnan(num)
        filled = np.where(missing, self.median_, num)
        parts = [np.clip((filled - self.mean_) / self.std_, -CLIP, CLIP)]
        parts.append(missing[:, self.indicator_columns_].astype(np.float64))
        for j, card in enumerate(self.cardinalities_):
            codes = table.categorical[:, j]
            onehot = np.zeros((len(codes), card + 1))  # the extra column: missing
            onehot[np.arange(len(codes)), np.where(codes == MISSING_CODE, card, codes)] = 1.0
            parts.append(onehot)
        return np.hstack(parts).astype(dtype, copy=False)

"""FoldPlan: the k-fold split shared by every model of a fit."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import KFold, StratifiedKFold, train_test_split

@dataclass
class FoldPlan:
    """``fold_of[i]`` is the fold whose model predicts row ``i`` out of fold."""

    fold_of: np.ndarray
    n_folds: int

    @classmethod
    def make(cls, y: np.ndarray, n_folds: int, task: str, seed: int) -> "FoldPlan":
        n_folds = max(2, min(n_folds, len(y)))
        if can_stratify(y, task):  # no more folds than the smallest class has rows
            n_folds = max(2, min(n_folds, int(np.bincount(y).min())))
        fold_of = np.empty(len(y), dtype=np.int32)
        for k, (_, held_out) in enumerate(kfold(y, n_folds, task, seed).split(np.zeros(len(y)), y)):
            fold_of[held_out] = k
        return cls(fold_of, n_folds)

    def grouped(self, n_groups: int) -> "FoldPlan":
        """This plan with its folds merged into ``n_groups`` groups of neighbouring folds.

        A slow model can train one copy per group instead of one per fold: every row is still
        predicted by a copy that never saw it, and the folds stay those of the shared plan.
        """
        if n_groups >= self.n_folds:
            return self
        return FoldPlan((self.fold_of * n_groups // self.n_folds).astype(np.int32), n_groups)

    def split(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Training rows and held-out rows of fold ``k``."""
        return np.flatnonzero(self.fold_of != k), np.flatnonzero(self.fold_of == k)

    def __iter__(self):
        return (self.split(k) for k in range(self.n_folds))


def can_stratify(y: np.ndarray, task: str, rows_per_class: int = 2) -> bool:
    """Whether a split can keep every class's share: each class has ``rows_per_class`` rows."""
    return task != "regression" and int(np.bincount(y).min()) >= rows_per_class


def kfold(y: np.ndarray, n_folds: int, task: str, seed: int):
    """Stratified k-fold when every class has a row for each fold, else plain k-fold (shuffled)."""
    splitter = StratifiedKFold if can_stratify(y, task, n_folds) else KFold
    return splitter(n_folds, shuffle=True, random_state=seed)


# Share of a fold's training rows set aside for early stopping.
INNER_FRACTION = 0.1


def inner_split(y: np.ndarray, task: str, seed: int, fraction: float = INNER_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Fit rows and early-stopping rows drawn from a fold's training rows (never its held-out rows)."""
    return holdout_split(y, task, seed, max(1, int(round(fraction * len(y)))))


def holdout_split(y: np.ndarray, task: str, seed: int, n_held: int) -> tuple[np.ndarray, np.ndarray]:
    """(kept rows, ``n_held`` held-out rows), sorted; stratified when every class has two rows
    and the held-out part has room for each class."""
    stratify = y if can_stratify(y, task) and n_held >= len(np.unique(y)) else None
    kept, held = train_test_split(np.arange(len(y)), test_size=n_held, random_state=seed, stratify=stratify)
    return np.sort(kept), np.sort(held)

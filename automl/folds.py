"""FoldPlan: the k-fold split shared by every model of a fit, and the splits derived from it.

With ``groups`` (one id per row: a patient, a customer, a store) every split is made of whole
groups, so no group has rows on both sides of any split: the outer folds, the early-stopping
rows inside a fold, the ensemble search's guard slice and inner folds. Grouped classification
splits are stratified as far as the groups allow (``StratifiedGroupKFold``); grouped regression
splits balance the rows per fold (``GroupKFold``), seeded by shuffling the group ids first.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedGroupKFold, StratifiedKFold, train_test_split


@dataclass
class FoldPlan:
    """``fold_of[i]`` is the fold whose model predicts row ``i`` out of fold."""

    fold_of: np.ndarray
    n_folds: int

    @classmethod
    def make(cls, y: np.ndarray, n_folds: int, task: str, seed: int, groups: np.ndarray | None = None) -> "FoldPlan":
        """``n_folds`` folds (fewer for tiny data, or fewer groups), stratified where the classes allow."""
        n_folds = max(2, min(n_folds, len(y)))
        if groups is not None:
            n_groups = len(np.unique(groups))
            if n_groups < 2:
                raise ValueError("groups: every row is in one group, so no fold can hold out a group it was not "
                                 "trained on; give at least two groups, or no groups.")
            n_folds = min(n_folds, n_groups)
        elif can_stratify(y, task):  # no more folds than the smallest class has rows
            n_folds = max(2, min(n_folds, int(np.bincount(y).min())))
        fold_of = fold_ids(y, n_folds, task, seed, groups)
        return cls(fold_of, int(fold_of.max()) + 1)

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


def fold_ids(y: np.ndarray, n_folds: int, task: str, seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    """The fold (0..) of each row, shuffled with ``seed``: stratified k-fold when every class has a
    row for each fold, else plain k-fold; with ``groups``, whole groups per fold. Folds are
    numbered from 0 without gaps (a grouped split that leaves a fold empty has fewer)."""
    fold_of = np.empty(len(y), dtype=np.int32)
    if groups is None:
        splitter = StratifiedKFold if can_stratify(y, task, n_folds) else KFold
        splits = splitter(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y)
    elif task != "regression":
        with warnings.catch_warnings():  # a class in fewer groups than folds: stratified as far as it goes
            warnings.filterwarnings("ignore", message="The least populated class")
            splits = list(StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed).split(y, y, groups))
    else:  # GroupKFold balances rows per fold, largest groups first; shuffled ids break its ties by seed
        ids = np.unique(groups, return_inverse=True)[1].ravel()
        shuffled = np.random.default_rng(seed).permutation(ids.max() + 1)[ids]
        splits = GroupKFold(n_folds).split(y, y, shuffled)
    for k, (_, held_out) in enumerate(splits):
        fold_of[held_out] = k
    return np.unique(fold_of, return_inverse=True)[1].ravel().astype(np.int32)


# Share of a fold's training rows set aside for early stopping.
INNER_FRACTION = 0.1


def inner_split(y: np.ndarray, task: str, seed: int, fraction: float = INNER_FRACTION,
                groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Fit rows and early-stopping rows drawn from a fold's training rows (never its held-out rows)."""
    return holdout_split(y, task, seed, max(1, int(round(fraction * len(y)))), groups)


def holdout_split(y: np.ndarray, task: str, seed: int, n_held: int,
                  groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(kept rows, about ``n_held`` held-out rows), sorted; stratified when every class has two
    rows and the held-out part has room for each class. With ``groups``, the held-out rows are
    whole groups (one fold of a grouped split into ~len(y) / n_held folds); rows of a single group
    can only be split by row."""
    if groups is not None and len(np.unique(groups)) >= 2:
        n_splits = int(min(max(2, round(len(y) / max(n_held, 1))), len(np.unique(groups))))
        held = fold_ids(y, n_splits, task, seed, groups) == 0
        return np.flatnonzero(~held), np.flatnonzero(held)
    stratify = y if can_stratify(y, task) and n_held >= len(np.unique(y)) else None
    kept, held = train_test_split(np.arange(len(y)), test_size=n_held, random_state=seed, stratify=stratify)
    return np.sort(kept), np.sort(held)

"""Distillation: one student model that imitates the ensemble (Hinton et al., "Distilling the
Knowledge in a Neural Network"; AutoGluon's ``distill``).

The student learns the ensemble's predictions of the training rows (the teacher's, as it predicts:
refitted members where there are some), then predicts with one model where the ensemble reads
many. Its fold copies make its OOF predictions honest: the copy that holds out fold k learns the
predictions of the teacher made of the members' fold-k copies, which never saw fold k's labels (a
copy that holds out several folds, when the family trains fewer copies, learns the teacher of its
first: its other folds' OOF predictions are then slightly optimistic).
(Learning the teacher's OOF predictions instead leaks: another row's OOF prediction came from
copies that saw fold k. On two synthetic 3-class tables that student's OOF log loss was 0.06
better than the ensemble's and its test log loss 0.04 worse than the student's taught by the
teacher's own predictions, which was itself 0.03 better than OOF targets on test.)

Soft targets through the families' weighted losses: a classification row becomes one row per class
some teacher gives at least ``MIN_CLASS_SHARE``, labelled with that class and weighted by its
probability (times the row's own weight). A model's weighted log loss on these rows is the
cross-entropy against the teacher's probabilities, so every family that takes weights can be a
student with no change. A row's copies share one group, so early stopping never splits them.

``augment`` adds synthetic rows (AutoGluon's column resampling): a training row whose every value
is, with probability ``RESAMPLE_SHARE``, replaced by the same column of another random row. Each
belongs to its source row's fold and is labelled like the training rows.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .budget import TimeBudget
from .calibration import normalized
from .context import FitContext
from .data.encoder import EncodedTable
from .data.training import TrainingData
from .folds import FoldPlan
from .models.bagging import BaggedModel
from .models.base import ModelConfig, ModelTimeout

# The student of each family: its defaults, with the rounds of the boosting families capped so that
# it predicts fast. Measured (60 s fits, 60 s distillation; test metric and seconds to predict the
# test part): the best configuration of its family the fit trained grew 2,000-3,700 trees on soft
# targets (0.47 s churn, 4.3 s magic: slower than the ensemble); capped at 500 rounds, lr 0.1: 0.07-0.25 s;
# CatBoost's defaults: 0.009-0.017 s, and the most accurate (magic ROC AUC 0.9442 against the
# ensemble's 0.9444 and LightGBM's 0.9423; segmentation log loss 0.058 against 0.060-0.072).
STUDENT_PARAMS = {
    "catboost": {},
    "lightgbm": {"learning_rate": 0.1, "max_rounds": 500},
    "xgboost": {"learning_rate": 0.1, "max_rounds": 500},
    "tabm": {},
}
STUDENTS = tuple(STUDENT_PARAMS)
# Classes every teacher gives less than this are left out of a row's soft targets (the kept ones
# are renormalized): the rows grow by the classes each row keeps, not by all of them.
MIN_CLASS_SHARE = 0.01
# Column-resampling probability of augmented rows (AutoGluon's default for its "spunge" method).
RESAMPLE_SHARE = 0.5
# Augmented rows: as many as the training rows, at most this many.
MAX_AUGMENTED_ROWS = 20_000


@dataclass(frozen=True)
class Student:
    """A fitted student: the bag (refitted on every row when the time allowed), its honest OOF
    predictions of the training rows (raw, as the ensemble's), and how many synthetic rows it saw."""

    bag: BaggedModel
    oof: np.ndarray
    augmented_rows: int


class SoftTargets:
    """Rows laid out once for several teachers of the same rows (``teachers``: raw predictions
    [n_rows, n_outputs] each), so that each teacher's targets are one ``TrainingData`` of the same
    rows: regression, the rows themselves; classification, a row per class any teacher gives at
    least ``MIN_CLASS_SHARE`` (a row's top class is always kept)."""

    def __init__(self, X: EncodedTable, task: str, teachers: list[np.ndarray], sample_weight: np.ndarray | None,
                 groups: np.ndarray):
        self.task, self.weight = task, np.ones(len(X)) if sample_weight is None else sample_weight
        if task == "regression":
            self.rows = np.arange(len(X))
        else:
            kept = np.zeros(teachers[0].shape, dtype=bool)
            for proba in map(normalized, teachers):
                kept |= proba >= np.minimum(MIN_CLASS_SHARE, proba.max(axis=1, keepdims=True))
            self.rows, self.labels = np.nonzero(kept)  # row-major: each row's classes together
        self.X, self.groups = X.take(self.rows), groups[self.rows]
        self.sample_weight = None if sample_weight is None else self.weight[self.rows]

    def of(self, teacher: np.ndarray) -> TrainingData:
        """The rows with ``teacher``'s predictions as targets."""
        if self.task == "regression":
            return TrainingData(self.X, teacher[:, 0].astype(np.float64), self.sample_weight, self.groups)
        proba = normalized(teacher)[self.rows, self.labels]
        kept = np.bincount(self.rows, weights=proba)  # each source row's kept probability
        return TrainingData(self.X, self.labels.astype(np.int64), proba / kept[self.rows] * self.weight[self.rows],
                            self.groups)

    def first_of_each_row(self, n_rows: int) -> np.ndarray:
        """The layout's first row of each of the first ``n_rows`` source rows."""
        return np.unique(self.rows, return_index=True)[1][:n_rows]


def augmented(X: EncodedTable, n_rows: int, seed: int) -> tuple[EncodedTable, np.ndarray]:
    """(``n_rows`` synthetic rows, the source row of each): a random training row whose every
    value is replaced, with probability ``RESAMPLE_SHARE``, by the same column of another random row."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(X), size=n_rows)

    def resample(values: np.ndarray) -> np.ndarray:
        out = values[source].copy()
        swap = rng.random(out.shape) < RESAMPLE_SHARE
        donors = rng.integers(0, len(X), size=out.shape)
        out[swap] = values[donors[swap], np.nonzero(swap)[1]]
        return out

    return replace(X, numeric=resample(X.numeric), categorical=resample(X.categorical),
                   raw=None if X.raw is None else resample(X.raw)), source


def distill(config: ModelConfig, context: FitContext, data: TrainingData, plan: FoldPlan,
            teacher: Callable[[EncodedTable, np.ndarray | None], np.ndarray], augment: bool,
            budget: TimeBudget) -> Student:
    """Trains the student ``config`` on ``data``'s rows (and, with ``augment``, synthetic ones)
    with the ensemble's predictions as targets, bagged on ``plan``, then refits it on every row
    when what is left of ``budget`` pays for it. ``teacher(rows, fold_of)``: the ensemble's raw
    output for rows; with ``fold_of``, each row's by the members' copies that never saw that fold.
    Raises ``ModelTimeout`` (or the family's error) when no usable student could be trained."""
    groups = np.arange(len(data)) if data.groups is None else data.groups
    X, fold_of, weight = data.X, plan.fold_of, data.sample_weight
    n_augmented = min(len(data), MAX_AUGMENTED_ROWS) if augment else 0
    if n_augmented:
        extra, source = augmented(data.X, n_augmented, context.seed)
        X, fold_of = X.concat(extra), np.concatenate([fold_of, fold_of[source]])
        groups = np.concatenate([groups, groups[source]])
        weight = None if weight is None else np.concatenate([weight, weight[source]])
    start = time.perf_counter()
    full = teacher(X, None)
    # The teacher of each fold costs about what the full one did: refuse before spending the
    # student's time on it (a stacking ensemble predicting 14,000 rows 8 times took 100 s).
    needed, left = (time.perf_counter() - start) * plan.n_folds, budget.remaining()
    if not context.schedule.teaching_fits(needed, left):
        raise ModelTimeout(f"the ensemble's predictions for each of the {plan.n_folds} folds would take ~{needed:.0f}s "
                           f"of the {left:.0f}s left; give distill more time")
    by_fold = [teacher(X, np.full(len(X), k)) for k in range(plan.n_folds)]
    soft = SoftTargets(X, context.info.task, [full, *by_fold], weight, groups)
    bag = BaggedModel(config, context.info, seed=context.seed, n_threads=context.resources.threads,
                      device=context.resources.device)
    oof = bag.fit(soft.of(full), FoldPlan(fold_of[soft.rows], plan.n_folds),
                  context.schedule.student_copies_budget(budget), context.schedule,
                  targets_for=lambda folds: soft.of(by_fold[folds[0]]))
    if context.schedule.refit_fits(bag.refit_cost(len(soft.rows)), budget.remaining()):
        try:
            bag.refit(soft.of(full), budget)
        except ModelTimeout:  # the fold copies predict instead
            bag.discard_refit()
    return Student(bag, oof[soft.first_of_each_row(len(data))], n_augmented)

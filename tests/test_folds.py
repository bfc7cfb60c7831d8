"""FoldPlan and the inner early-stopping split."""
import numpy as np

from automl.schedule import SCHEDULE
from automl.folds import FoldPlan, inner_split


def test_fold_plan_is_stratified_seeded_and_covers_every_row_once():
    y = np.array([0] * 80 + [1] * 20)
    plan = FoldPlan.make(y, 8, "binary", seed=3)
    assert plan.n_folds == 8 and np.bincount(plan.fold_of).tolist() == [13, 13, 13, 13, 12, 12, 12, 12]
    for train, held_out in plan:
        assert np.intersect1d(train, held_out).size == 0 and len(train) + len(held_out) == 100
        assert np.sum(y[held_out] == 1) in (2, 3)  # 20 positives spread over 8 folds
    assert np.array_equal(plan.fold_of, FoldPlan.make(y, 8, "binary", seed=3).fold_of)
    assert not np.array_equal(plan.fold_of, FoldPlan.make(y, 8, "binary", seed=4).fold_of)


def test_fold_plan_shrinks_for_tiny_data():
    assert FoldPlan.make(np.array([0, 1, 0, 1, 1]), 8, "binary", seed=0).n_folds == 2
    assert FoldPlan.make(np.arange(3.0), 8, "regression", seed=0).n_folds == 3


def test_inner_split_only_uses_the_rows_it_is_given():
    y = np.array([0, 1] * 50)
    fit_rows, val_rows = inner_split(y, "binary", seed=0)
    assert len(val_rows) == 10 and np.intersect1d(fit_rows, val_rows).size == 0
    assert sorted(np.concatenate([fit_rows, val_rows]).tolist()) == list(range(100))
    assert y[val_rows].sum() == 5  # stratified


def test_default_folds_shrink_for_large_data_or_short_budgets():
    assert SCHEDULE.n_folds(5_000, 10, None) == 8
    assert SCHEDULE.n_folds(5_000, 10, 120) == 8
    assert SCHEDULE.n_folds(40_000, 14, 120) == 5
    assert SCHEDULE.n_folds(200_000, 10, None) == 4
    assert SCHEDULE.n_folds(5_000, 16, 120, n_classes=26) == 5  # one tree per class and round


def test_grouped_plan_merges_neighbouring_folds_and_keeps_every_row_out_of_fold():
    y = np.arange(80.0)
    plan = FoldPlan.make(y, 8, "regression", seed=0)
    grouped = plan.grouped(4)
    assert grouped.n_folds == 4
    # rows of the same fold stay together, and each group is two whole folds
    for fold in range(8):
        assert len(set(grouped.fold_of[plan.fold_of == fold])) == 1
    assert sorted(np.bincount(grouped.fold_of)) == [20, 20, 20, 20]
    for train, held_out in grouped:
        assert np.intersect1d(train, held_out).size == 0 and len(train) + len(held_out) == 80
    assert plan.grouped(8) is plan and plan.grouped(12) is plan

"""The second pass of any-time families on small tables: copies retrained on their whole fold for
the first pass's mean best round, never on their own held-out rows, the first pass kept when the
second does not finish, and no second pass where the stopping rows are many."""
import numpy as np
import pytest

from automl.budget import TimeBudget
from automl.data.encoder import EncodedTable
from automl.data.training import TrainingData
from automl.folds import INNER_FRACTION, FoldPlan
from automl.metrics import get_metric
from automl.models import executor
from automl.models.bagging import SECOND_PASS_MAX_STOPPING_ROWS, BaggedModel
from automl.models.base import ModelConfig, ModelTimeout, TaskInfo

BINARY = TaskInfo("binary", 2)


def _table(n: int, seed: int = 0, signal: bool = True):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, 4)).astype(np.float32)
    y = (numeric[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int) if signal else rng.integers(0, 2, n)
    return TrainingData(EncodedTable(numeric, np.zeros((n, 0), np.int32), list("abcd"), [], []), y)


def _bag(family="lightgbm", params=None):
    return BaggedModel(ModelConfig("m", family, params or {}), BINARY, seed=0, n_threads=1)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "catboost"])
def test_a_small_table_retrains_every_copy_on_its_whole_fold_for_the_mean_best_round(family, monkeypatch):
    data = _table(300)
    plan = FoldPlan.make(data.y, 4, "binary", seed=0)
    first_rounds = []
    original = executor.train_copy

    def recording(job, data, budget):
        model = original(job, data, budget)
        if job.validate:
            first_rounds.append(model.best_rounds)
        return model

    monkeypatch.setattr(executor, "train_copy", recording)
    bag = _bag(family)
    bag.fit(data, plan, TimeBudget(None))
    assert bag.second_pass_ and len(first_rounds) == plan.n_folds
    expected = max(1, int(round(np.mean(first_rounds) / (1 - INNER_FRACTION))))
    assert [copy.best_rounds for copy in bag.models_] == [expected] * plan.n_folds
    assert bag.params_["max_rounds"] == expected
    assert bag.copy_fit_rows_ == pytest.approx(np.mean([len(train) for train, _ in plan]))  # no rows held back


def test_the_second_pass_never_trains_a_copy_on_the_rows_it_predicts(monkeypatch):
    # Pure noise, leaves of 2 rows: a copy that saw its held-out rows would predict them near perfectly.
    data = _table(300, signal=False)
    plan = FoldPlan.make(data.y, 4, "binary", seed=0)
    seen = []
    original = executor.train_copy

    def recording(job, data, budget):
        seen.append((set(job.train), set(job.held_out), job.validate))
        return original(job, data, budget)

    monkeypatch.setattr(executor, "train_copy", recording)
    bag = _bag("lightgbm", {"min_data_in_leaf": 2, "num_leaves": 64})
    oof = bag.fit(data, plan, TimeBudget(None))
    assert bag.second_pass_ and [v for *_, v in seen].count(False) == plan.n_folds
    assert all(not train & held for train, held, _ in seen)
    assert get_metric("roc_auc", "binary").score(data.y, oof) < 0.65


def test_a_second_pass_that_does_not_finish_leaves_the_first(monkeypatch):
    data = _table(300)
    plan = FoldPlan.make(data.y, 4, "binary", seed=0)
    first = _bag()
    monkeypatch.setattr(BaggedModel, "_second_pass_pays", lambda self, family, budget: False)
    expected = first.fit(data, plan, TimeBudget(None))
    monkeypatch.undo()
    original = executor.train_copy

    def failing_second(job, data, budget):
        if not job.validate:
            raise ModelTimeout("stopped")
        return original(job, data, budget)

    monkeypatch.setattr(executor, "train_copy", failing_second)
    bag = _bag()
    oof = bag.fit(data, plan, TimeBudget(None))
    assert not bag.second_pass_
    np.testing.assert_array_equal(oof, expected)
    assert bag.params_ == first.params_ and bag.copy_fit_rows_ == first.copy_fit_rows_


def test_many_stopping_rows_train_one_pass():
    n = int(2 * SECOND_PASS_MAX_STOPPING_ROWS / INNER_FRACTION) + 200  # 2 folds: half the rows train a copy
    data = _table(n)
    bag = _bag("lightgbm", {"max_rounds": 20})
    bag.fit(data, FoldPlan.make(data.y, 2, "binary", seed=0), TimeBudget(None))
    assert not bag.second_pass_
    assert bag.copy_fit_rows_ == pytest.approx(n / 2 * (1 - INNER_FRACTION))

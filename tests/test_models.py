"""Conformance: every registered family fits each task and honours the shared output convention."""
import time

import numpy as np
import pytest

from automl.data.training import TrainingData
from automl.budget import TimeBudget
from automl.data.encoder import EncodedTable
from automl.models import sklearn_models
from automl.models.bagging import BaggedModel, thread_plan
from automl.models.base import ModelConfig, TaskInfo
from automl.models.registry import FAMILIES, get_family
from automl.folds import FoldPlan, inner_split

# Small settings so the whole conformance run stays fast.
QUICK = {"lightgbm": {"max_rounds": 200}, "xgboost": {"max_rounds": 200}, "catboost": {"max_rounds": 200},
         "random_forest": {"n_estimators": 30}, "extra_trees": {"n_estimators": 30}, "tabm": {"max_epochs": 5}}


def _table(n=240, seed=0):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, 3)).astype(np.float32)
    numeric[rng.random(n) < 0.1, 1] = np.nan
    categorical = rng.integers(-1, 3, size=(n, 1)).astype(np.int32)  # -1: missing
    table = EncodedTable(numeric, categorical, ["a", "b", "c"], ["k"], [3])
    signal = numeric[:, 0] + (categorical[:, 0] == 1)
    return table, signal


def _fit(family, info, table, y, budget=None):
    model = get_family(family)(QUICK.get(family, {}), info, seed=0, n_threads=1)
    fit_rows, val_rows = inner_split(y, info.task, seed=0)
    return model.fit(table.take(fit_rows), y[fit_rows], table.take(val_rows), y[val_rows], budget=budget)


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_family_fits_and_predicts_in_the_shared_shape(family, task):
    table, signal = _table()
    if task == "regression":
        y, info = signal.astype(np.float64), TaskInfo("regression", 0)
    else:
        edges = [0.5] if task == "binary" else [0.0, 1.0]
        y = np.digitize(signal, edges)
        info = TaskInfo(task, len(edges) + 1)
    model = _fit(family, info, table.take(np.arange(200)), y[:200])
    pred = model.predict(table.take(np.arange(200, 240)))
    assert pred.shape == (40, info.n_outputs) and pred.dtype == np.float32 and np.isfinite(pred).all()
    if task == "regression":
        assert np.corrcoef(pred[:, 0], y[200:])[0, 1] > 0.5
    else:
        assert np.allclose(pred.sum(axis=1), 1.0, atol=1e-4)
        assert np.mean(pred.argmax(axis=1) == y[200:]) > 1.0 / info.n_classes + 0.1


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "catboost"])
def test_boosting_stops_when_the_budget_is_spent(family):
    table, signal = _table()
    y = (signal > 0.5).astype(int)
    model = get_family(family)({"max_rounds": 5000, "patience": 5000}, TaskInfo("binary", 2), seed=0, n_threads=1)
    fit_rows, val_rows = inner_split(y, "binary", seed=0)
    model.fit(table.take(fit_rows), y[fit_rows], table.take(val_rows), y[val_rows], budget=TimeBudget(0.0))
    assert model.predict(table).shape == (240, 2)  # stopped at once, still a usable model


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_class_missing_from_a_fold_still_gets_its_column(family):
    table, signal = _table()
    y = np.digitize(signal, [0.0, 1.0])
    y[y == 2] = 1  # class 2 never appears in training
    model = _fit(family, TaskInfo("multiclass", 3), table, y)
    pred = model.predict(table)
    assert pred.shape == (240, 3) and np.allclose(pred.sum(axis=1), 1.0, atol=1e-4)
    assert pred[:, 2].max() < 0.2


def test_thread_plan_trains_small_tables_fold_parallel_and_large_ones_threaded():
    assert thread_plan(4, 10_000, parallel_folds=True, n_folds=8) == (4, 1)
    assert thread_plan(4, 10_000, parallel_folds=True, n_folds=2) == (2, 1)
    assert thread_plan(4, 10**9, parallel_folds=True, n_folds=8) == (1, 4)
    assert thread_plan(4, 1_000_000, parallel_folds=True, n_folds=8) == (2, 2)
    assert thread_plan(4, 10_000, parallel_folds=False, n_folds=8) == (1, 4)


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "catboost"])
def test_a_few_rows_are_predicted_on_one_thread_per_copy(family):
    table, signal = _table()
    y = (signal > 0.5).astype(int)
    bag = BaggedModel(ModelConfig("m", family, QUICK[family]), TaskInfo("binary", 2), seed=0, n_threads=4)
    bag.fit(TrainingData(table, y), FoldPlan.make(y, n_folds=4, task="binary", seed=0), TimeBudget(None))
    row = table.take(np.array([3]))
    expected = np.mean([copy.predict(row) for copy in bag.models_], axis=0)
    for copy in bag.models_:
        copy.n_threads = 4  # as a copy trained on a large table would be
    np.testing.assert_allclose(bag.predict(row), expected, rtol=1e-6)
    assert [copy.n_threads for copy in bag.models_] == [1] * 4  # spinning thread pools cost 10x a row's prediction


@pytest.mark.parametrize("family", ["lightgbm", "catboost", "random_forest"])
def test_parallel_folds_give_the_same_model_as_serial_ones(family):
    table, signal = _table()
    y = (signal > 0.5).astype(int)
    plan = FoldPlan.make(y, n_folds=4, task="binary", seed=0)
    config = ModelConfig("m", family, QUICK.get(family, {}))
    serial = BaggedModel(config, TaskInfo("binary", 2), seed=0, n_threads=1)
    parallel = BaggedModel(config, TaskInfo("binary", 2), seed=0, n_threads=4)
    oof_serial = serial.fit(TrainingData(table, y), plan, TimeBudget(None))
    oof_parallel = parallel.fit(TrainingData(table, y), plan, TimeBudget(None))
    np.testing.assert_array_equal(oof_serial, oof_parallel)
    np.testing.assert_array_equal(serial.predict(table), parallel.predict(table))


def test_a_failing_fold_stops_the_folds_not_yet_started(monkeypatch):
    started = []

    class Failing(get_family("linear")):
        def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
            started.append(self.seed)
            time.sleep(0.2)  # long enough for the failure to be seen before every fold has started
            raise RuntimeError("boom")

    for module in ("bagging", "executor"):  # the bag plans with the family, the fold job trains it
        monkeypatch.setattr(f"automl.models.{module}.get_family", lambda name: Failing)
    table, signal = _table()
    y = (signal > 0.5).astype(int)
    plan = FoldPlan.make(y, n_folds=8, task="binary", seed=0)
    with pytest.raises(RuntimeError, match="boom"):
        BaggedModel(ModelConfig("m", "linear", {}), TaskInfo("binary", 2), seed=0, n_threads=2).fit(
            TrainingData(table, y), plan, TimeBudget(None))
    assert 1 <= len(started) < plan.n_folds


@pytest.mark.parametrize("classification", [True, False])
def test_forest_arrays_predict_as_scikit_learn_by_either_path(classification):
    from sklearn.ensemble import ExtraTreesClassifier, RandomForestRegressor

    from automl.models.forest_arrays import ForestArrays

    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 4)).astype(np.float32)
    if classification:
        forest = ExtraTreesClassifier(20, random_state=0).fit(X, (X[:, 0] + rng.normal(size=400) > 0).astype(int))
        expected = forest.predict_proba(X)
    else:
        forest = RandomForestRegressor(20, random_state=0).fit(X, X[:, 1] + rng.normal(size=400))
        expected = forest.predict(X)[:, None]
    arrays = ForestArrays.from_estimators(forest.estimators_, 4, classification)
    compiled = arrays.predict(X)  # leaves found by scikit-learn's compiled trees
    assert np.allclose(compiled, expected, rtol=1e-6, atol=1e-7)  # leaf values are kept as float32
    assert np.array_equal(arrays.predict(X[:5]), compiled[:5])  # a few rows: the numpy descent
    arrays._trees = []  # as where scikit-learn's private tree layout changed: the numpy descent
    assert np.array_equal(arrays.predict(X), compiled)


@pytest.mark.parametrize("max_leaf_nodes, most_leaves", [(None, 8), (10_000, 8), (4, 4)])
def test_a_forest_on_many_rows_caps_its_leaves_whatever_its_configuration_asks(monkeypatch, max_leaf_nodes,
                                                                              most_leaves):
    # As if 240 rows were many: a configured cap above MAX_LEAVES is lowered to it, one below is kept.
    monkeypatch.setattr(sklearn_models, "MANY_ROWS", 100)
    monkeypatch.setattr(sklearn_models, "MAX_LEAVES", 8)
    table, signal = _table()
    params = {"n_estimators": 5} if max_leaf_nodes is None else {"n_estimators": 5, "max_leaf_nodes": max_leaf_nodes}
    forest = get_family("extra_trees")(params, TaskInfo("regression", 1), seed=0, n_threads=1).fit(table, signal)
    assert forest.trees_.n_trees == 5
    assert forest.trees_.node_counts.max() == 2 * most_leaves - 1  # a binary tree of n leaves has 2n - 1 nodes


def test_held_out_rows_are_priced_before_a_slow_prediction_runs(monkeypatch):
    """A copy whose prediction would outlast its budget and its own training is given up after
    predicting a sample, instead of running on (kNN on many rows)."""
    from automl.models.base import ModelTimeout
    from automl.models.executor import PRICE_ROWS, FoldJob, run_fold

    linear = get_family("linear")
    slow_predict = linear._predict

    def predict(self, X):  # 1 ms per 100 rows
        time.sleep(len(X) / 100_000)
        return slow_predict(self, X)

    monkeypatch.setattr(linear, "_predict", predict)
    n = PRICE_ROWS * 20
    rng = np.random.default_rng(0)
    table = EncodedTable(rng.normal(size=(n, 3)).astype(np.float32), np.zeros((n, 0), dtype=np.int32),
                         ["a", "b", "c"], [], [])
    y = rng.integers(0, 2, n)
    job = FoldJob("linear", {}, {}, TaskInfo("binary", 2), 0, 1, "cpu", np.arange(200), np.arange(200, n))
    with pytest.raises(ModelTimeout, match="held-out rows would take"):
        run_fold(job, TrainingData(table, y), TimeBudget(0.1))  # ~0.4 s of prediction against 0.1 s
    model, prediction, _ = run_fold(job, TrainingData(table, y), TimeBudget(None))
    np.testing.assert_allclose(prediction, model.predict(table.take(job.held_out)))  # in two parts, the same

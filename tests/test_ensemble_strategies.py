"""QO/QDO-ES, CMA-ES, DES and stacking on small stores whose right answer is known."""
from __future__ import annotations

import numpy as np
import pytest

from automl.ensemble.data import EnsembleData
from automl.budget import TimeBudget
from automl.data.encoder import EncodedTable
from automl.ensemble import STRATEGIES, get_strategy
from automl.ensemble.cma_es import N_COUNTS, to_counts
from automl.ensemble.dynamic import DynamicSelection, _without_self
from automl.ensemble.stacking import StackingEnsemble
from automl.metrics import get_metric
from automl.store import ModelRecord
from automl.folds import FoldPlan

from strategy_data import synthetic_store as _store


def _table(numeric: np.ndarray) -> EncodedTable:
    numeric = np.asarray(numeric, dtype=np.float32).reshape(len(numeric), -1)
    return EncodedTable(numeric, np.zeros((len(numeric), 0), dtype=np.int32),
                        [f"x{j}" for j in range(numeric.shape[1])], [], [])


@pytest.mark.parametrize("name", ["qo", "qdo", "cmaes"])
def test_population_strategies_beat_the_single_best_and_repeat(name):
    predictions, y = _store("multiclass", n_models=6, n_rows=200)
    metric = get_metric("log_loss", "multiclass")
    records = [ModelRecord(f"m{j}", ["lightgbm", "catboost"][j % 2], {"depth": j % 3}, 1.0, 0.1, 0.0)
               for j in range(6)]
    fitted = [get_strategy(name)(metric, "multiclass", seed=3).fit(EnsembleData(predictions, y, records=records))
              for _ in range(2)]
    np.testing.assert_array_equal(fitted[0].weights_, fitted[1].weights_)
    assert fitted[0].weights_.sum() == pytest.approx(1.0)
    best_single = min(metric.loss(y, p) for p in predictions)
    assert metric.loss(y, fitted[0].predict(predictions)) < best_single


@pytest.mark.parametrize("name", ["qo", "qdo"])
def test_population_budget_is_fifty_evaluations_per_model(name):
    predictions, y = _store("binary", n_models=4)
    strategy = get_strategy(name)(get_metric("roc_auc", "binary"), "binary").fit(EnsembleData(predictions, y))
    assert 50 * 4 <= strategy.n_evaluations_ < 50 * 4 + strategy.batch_size


def test_population_strategy_stops_when_the_budget_expires():
    predictions, y = _store("binary", n_models=8)
    strategy = get_strategy("qdo")(get_metric("log_loss", "binary"), "binary")
    strategy.fit(EnsembleData(predictions, y), TimeBudget(0.0))
    assert strategy.n_evaluations_ == 8 + 4  # the initial population only


def test_cmaes_normalization_gives_sparse_counts_out_of_fifty():
    x = np.array([3.0, 2.5, 0.0, -4.0, -4.0])
    counts = to_counts(x)
    assert counts[3] == counts[4] == 0  # softmax weights far below 1% are dropped
    assert abs(counts.sum() - N_COUNTS) <= 2 and counts[0] > counts[1] > 0
    assert to_counts(np.zeros(300))[0] >= 1  # even a flat start keeps a model


def test_knora_e_picks_the_model_competent_in_each_region():
    # Model 0 is right for x < 0 and wrong above; model 1 the opposite.
    x = np.linspace(-1, 1, 40)
    y = (np.arange(40) % 2)
    right, wrong = np.eye(2)[y] * 0.8 + 0.1, np.eye(2)[1 - y] * 0.8 + 0.1
    model0 = np.where((x < 0)[:, None], right, wrong)
    model1 = np.where((x < 0)[:, None], wrong, right)
    predictions = np.stack([model0, model1]).astype(np.float32)
    des = DynamicSelection(get_metric("log_loss", "binary"), "binary", k=3).fit(EnsembleData(predictions, y, _table(x)))
    test_x = np.array([-0.8, 0.8])
    test_predictions = np.stack([np.full((2, 2), [0.3, 0.7]), np.full((2, 2), [0.9, 0.1])]).astype(np.float32)
    combined = des.predict(test_predictions, _table(test_x))
    np.testing.assert_allclose(combined, [[0.3, 0.7], [0.9, 0.1]], atol=1e-6)
    # The OOF predictions pick the right model everywhere too (neighbours away from x = 0 agree).
    assert np.mean(des.predict_oof(predictions, _table(x)).argmax(1) == y) >= 0.9


def test_des_never_uses_a_row_as_its_own_neighbour():
    neighbours = np.array([[0, 5, 6], [7, 1, 8], [9, 3, 4]])
    np.testing.assert_array_equal(_without_self(neighbours), [[5, 6], [7, 8], [9, 3]])
    # Pure-noise labels: a leaky competence (row as its own neighbour, k=1) would be perfect.
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    predictions = np.stack([np.eye(2)[rng.integers(0, 2, 300)] for _ in range(5)]).astype(np.float32)
    des = DynamicSelection(get_metric("accuracy", "binary"), "binary", k=1).fit(
        EnsembleData(predictions, y, _table(rng.normal(size=300))))
    assert np.mean(des.predict_oof(predictions).argmax(1) == y) < 0.62


def test_des_regression_weights_by_local_error():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 200)
    y = x.copy()
    good_left = np.where(x < 0, y, y + 2)  # exact on the left, off by 2 on the right
    good_right = np.where(x < 0, y - 2, y)
    predictions = np.stack([good_left, good_right])[:, :, None].astype(np.float32)
    des = DynamicSelection(get_metric("rmse", "regression"), "regression", k=5).fit(
        EnsembleData(predictions, y, _table(x)))
    assert get_metric("rmse", "regression").score(y, des.predict_oof(predictions)) < 0.3


def test_stacking_oof_is_honest_on_noise_labels():
    # Labels are coin flips, the base models are noise, and a row-id feature lets layer-2
    # trees memorize rows: scored on the rows it trained on (the leaky design), a layer-2
    # model looks good; its OOF predictions, which GES on top and the guard use, stay at chance.
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, n)
    positive = rng.uniform(size=(3, n))
    predictions = np.stack([1 - positive, positive], axis=2).astype(np.float32)
    metric = get_metric("roc_auc", "binary")
    stack = StackingEnsemble(metric, "binary", models=("lightgbm",), guard=False)
    features = _table(np.arange(n))
    columns = stack.fit_layers(EnsembleData(predictions, y, features, FoldPlan.make(y, 8, "binary", 0).fold_of),
                               TimeBudget(None))
    assert columns.shape == (4, n, 2)
    assert abs(metric.score(y, columns[3]) - 0.5) < 0.06
    assert metric.score(y, stack.transform(predictions, features)[3]) > 0.65  # the leaky in-sample view
    stack.fit(EnsembleData(predictions, y, features))
    assert abs(metric.score(y, stack.predict_oof(predictions)) - 0.5) < 0.06


def test_stacking_pays_when_the_features_add_signal_and_guard_can_turn_it_off():
    # The base models only saw x; the class also depends on z, which the next layer gets
    # as an original feature: stacking must win on the guard fold and beat plain GES.
    rng = np.random.default_rng(0)
    n = 600
    x, z = rng.normal(size=n), rng.normal(size=n)
    y = (x + 2 * z > 0).astype(int)
    seen = 1 / (1 + np.exp(-np.stack([x, x + rng.normal(scale=0.5, size=n)])))
    predictions = np.stack([1 - seen, seen], axis=2).astype(np.float32)
    metric = get_metric("roc_auc", "binary")
    features = _table(np.column_stack([x, z]))
    folds = FoldPlan.make(y, 3, "binary", 0).fold_of  # few folds keep the test fast
    stack = StackingEnsemble(metric, "binary", models=("lightgbm",)).fit(EnsembleData(predictions, y, features, folds))
    assert stack.guard_losses_[0] < stack.guard_losses_[1] and stack.active_
    assert metric.score(y, stack.predict_oof(predictions)) > metric.score(y, predictions[0]) + 0.1
    noise = StackingEnsemble(metric, "binary", models=("linear",)).fit(
        EnsembleData(predictions, y, _table(rng.normal(size=n)), folds))
    assert not noise.active_ and noise.describe().startswith("stacking off")


def test_every_strategy_fits_and_predicts_each_task():
    for task, metric_name in [("binary", "roc_auc"), ("multiclass", "log_loss"), ("regression", "rmse")]:
        predictions, y = _store(task, n_models=3, n_rows=90)
        features = _table(np.random.default_rng(0).normal(size=(90, 2)))
        for name, cls in STRATEGIES.items():
            kwargs = {"models": ("linear",)} if name == "stacking" else {}
            strategy = cls(get_metric(metric_name, task), task, **kwargs).fit(EnsembleData(predictions, y, features))
            out = strategy.predict(predictions[:, :10], features.take(np.arange(10)))
            assert out.shape == (10, predictions.shape[2]) and np.isfinite(out).all(), name
            assert set(strategy.used_models) <= set(range(3)), name


def test_unknown_strategy_and_bad_settings_are_rejected():
    with pytest.raises(ValueError, match="Unknown ensemble strategy"):
        get_strategy("voting")
    with pytest.raises(ValueError, match="method"):
        DynamicSelection(get_metric("log_loss", "binary"), "binary", method="knn")
    with pytest.raises(ValueError, match="layers"):
        StackingEnsemble(get_metric("log_loss", "binary"), "binary", layers=4)


def test_des_with_groups_never_judges_a_row_by_its_own_groups_rows():
    """Rows of a group share a label the models cannot see: a competence region inside the group
    would make DES's OOF predictions look perfect."""
    from automl.ensemble.dynamic import _outside_group

    rng = np.random.default_rng(0)
    n, groups = 300, np.repeat(np.arange(30), 10)
    y = (groups % 2).astype(int)  # the label is the group's
    x = groups + rng.normal(scale=0.01, size=n)  # neighbours in feature space are the group's rows
    # each model is right or wrong for a whole group: a group's rows tell which models suit it
    predictions = np.stack([np.eye(2)[rng.integers(0, 2, 30)[groups]] for _ in range(5)]).astype(np.float32)
    leaky = DynamicSelection(get_metric("accuracy", "binary"), "binary", k=5).fit(
        EnsembleData(predictions, y, _table(x)))
    honest = DynamicSelection(get_metric("accuracy", "binary"), "binary", k=5).fit(
        EnsembleData(predictions, y, _table(x), groups=groups))
    assert np.mean(leaky.predict_oof(predictions).argmax(1) == y) > 0.8
    assert np.mean(honest.predict_oof(predictions).argmax(1) == y) < 0.65
    nearest = np.array([[0, 1, 2, 3], [1, 0, 3, 2], [2, 0, 3, 1], [3, 2, 1, 0]])  # each row's, itself first
    assert _outside_group(nearest, np.array([0, 0, 1, 1]), 2).tolist() == [[2, 3], [3, 2], [0, 1], [1, 0]]
    # a row with one neighbour outside its group in reach gets it twice
    assert _outside_group(nearest[:, :3], np.array([0, 0, 1, 1]), 2).tolist()[0] == [2, 2]

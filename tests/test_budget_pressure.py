"""Under time pressure: boosting is priced and adapted, folds cut short keep their rounds, a strong
model trains first, leftover time goes to the search, and the search needs evidence to switch."""
import itertools
import logging
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from automl.data.training import TrainingData
from automl import AutoMLClassifier
from automl.budget import TimeBudget
from automl.data.encoder import EncodedTable
from automl.ensemble.evidence import effective_rows, win_probability
from automl.context import FitContext
from automl.ensemble.data import EnsembleData
from automl.ensemble.search import Search
from automl.metrics import get_metric
from automl.models.bagging import BaggedModel
from automl.models.base import ModelConfig, ModelTimeout, TaskInfo
from automl.models.boosting import MAX_LEARNING_RATE, MIN_ROUNDS
from automl.models.catboost import CatBoostModel
from automl.models.lightgbm import LightGBMModel
from automl.models import sklearn_models
from automl.models.sklearn_models import MIN_TREES, ExtraTreesModel
from automl.schedule import SCHEDULE
from automl.store import ModelRecord, PredictionStore
from automl.models.training import strong_first
from automl.folds import FoldPlan, inner_split

BOOSTING = ["lightgbm", "xgboost", "catboost"]


def _table(n=3000, seed=0):
    rng = np.random.default_rng(seed)
    numeric = rng.normal(size=(n, 8)).astype(np.float32)
    table = EncodedTable(numeric, np.zeros((n, 0), dtype=np.int32), [f"x{j}" for j in range(8)], [], [])
    logit = numeric[:, 0] * 2 + np.sin(3 * numeric[:, 1]) + numeric[:, 2] * numeric[:, 3]
    y = (logit + rng.normal(scale=0.5, size=n) > 0).astype(int)
    return table, y


def test_adapt_keeps_a_configuration_that_can_take_its_time():
    params, copies, note = LightGBMModel.adapt({}, 8, lambda c: 10_000)
    assert (params, copies, note) == ({}, 8, "")


def test_adapt_raises_the_learning_rate_to_converge_in_the_rounds_there_are():
    mass = LightGBMModel.learning_mass
    params, copies, note = LightGBMModel.adapt({"learning_rate": 0.01}, 8, lambda c: 200)
    assert copies == 8 and params["max_rounds"] == 200
    assert params["learning_rate"] == pytest.approx(mass / 200)
    assert note == f"lr {mass / 200:.2g}, 200 rounds"


def test_adapt_cuts_copies_before_rounds_fall_below_what_the_highest_rate_needs():
    # one copy affords 800 / copies rounds: 4 copies are the most that afford CatBoost's 50 / 0.3 = 167
    params, copies, note = CatBoostModel.adapt({}, 8, lambda c: 800 / c)
    assert copies == 4 and CatBoostModel.learning_mass / MAX_LEARNING_RATE == pytest.approx(166.7, abs=0.1)
    assert params["learning_rate"] == pytest.approx(50 / 200) and params["max_rounds"] == 200
    assert note.endswith(f"{copies} copies")


def test_adapt_gives_up_a_configuration_whose_copies_cannot_afford_usable_rounds():
    # manyclass_30 at 60 s: two configurations trained 1 round a copy (OOF log loss 2.5) for 3.6 s
    with pytest.raises(ModelTimeout, match="affords 4 rounds"):
        LightGBMModel.adapt({}, 8, lambda c: 8 / c)
    params, copies, _ = LightGBMModel.adapt({}, 8, lambda c: 40 / c)  # 20 rounds at 2 copies: kept
    assert copies == 2 and params["max_rounds"] == 20


@pytest.mark.parametrize("family", BOOSTING)
def test_a_configuration_adapted_to_a_tiny_budget_trains_every_fold_and_predicts(family):
    table, y = _table()
    plan = FoldPlan.make(y, 8, "binary", seed=0)
    # At learning rate 0.005 the configuration needs thousands of rounds: more than 4 s pay for here.
    model = BaggedModel(ModelConfig("slow", family, {"learning_rate": 0.005}), TaskInfo("binary", 2), seed=0,
                        n_threads=2)
    budget = TimeBudget(4.0)
    oof = model.fit(TrainingData(table, y), plan, budget)
    assert budget.elapsed() < 4.0 + 2.0
    assert model.adapted_ and model.params_["learning_rate"] > 0.005
    assert np.isfinite(oof).all() and (oof.sum(axis=1) > 0.99).all()  # every row predicted out of fold
    assert get_metric("roc_auc", "binary").score(y, oof) > 0.75
    assert model.predict(table).shape == (len(y), 2)


def test_folds_side_by_side_share_the_time_alike_and_leave_room_to_predict():
    # 10 classes: a round is 10 trees, and predicting a fold's held-out rows costs a share of the fold.
    rng = np.random.default_rng(0)
    n = 6000
    numeric = rng.normal(size=(n, 8)).astype(np.float32)
    table = EncodedTable(numeric, np.zeros((n, 0), dtype=np.int32), [f"x{j}" for j in range(8)], [], [])
    y = np.digitize(numeric[:, 0] + numeric[:, 1] * numeric[:, 2], np.quantile(numeric[:, 0], np.linspace(0, 1, 11)[1:-1]))
    bag = BaggedModel(ModelConfig("slow", "lightgbm", {"learning_rate": 0.002}), TaskInfo("multiclass", 10), seed=0,
                      n_threads=2)
    budget = TimeBudget(8.0)
    bag.fit(TrainingData(table, y), FoldPlan.make(y, 5, "multiclass", seed=0), budget)
    assert budget.elapsed() < 8.0 + 1.0
    assert 0 < bag.train_share_ < 1
    rounds = [copy.rounds_.done for copy in bag.models_]
    # Five folds on two workers are three waves of a third each (the last fold's wave alone); before,
    # the second fold got half the time and the last a seventh (rounds 240-932 on letter).
    assert min(rounds) > 0.5 * max(rounds)


def test_a_fold_stopped_by_its_budget_keeps_the_rounds_it_has():
    table, y = _table()
    fit_rows, val_rows = inner_split(y, "binary", seed=0)
    model = LightGBMModel({"learning_rate": 0.002, "patience": 10_000}, TaskInfo("binary", 2), seed=0, n_threads=1)
    model.fit(table.take(fit_rows), y[fit_rows], table.take(val_rows), y[val_rows], budget=TimeBudget(0.5))
    assert model.rounds_.stopped_by_budget and model.rounds_.done >= MIN_ROUNDS
    assert model.usable
    auc = get_metric("roc_auc", "binary").score(y[val_rows], model.predict(table.take(val_rows)))
    assert auc > 0.7


def test_a_fold_whose_budget_paid_for_nothing_usable_abandons_the_model(monkeypatch):
    table, y = _table()
    fit_rows, val_rows = inner_split(y, "binary", seed=0)
    model = LightGBMModel({}, TaskInfo("binary", 2), seed=0, n_threads=1)
    model.fit(table.take(fit_rows), y[fit_rows], table.take(val_rows), y[val_rows], budget=TimeBudget(0.0))
    assert model.rounds_.stopped_by_budget and not model.usable


    monkeypatch.setattr(LightGBMModel, "usable", property(lambda self: False))  # every fold ends as the one above
    bag = BaggedModel(ModelConfig("m", "lightgbm", {"max_rounds": 5}), TaskInfo("binary", 2), seed=0, n_threads=1)
    with pytest.raises(ModelTimeout, match="nothing usable"):
        bag.fit(TrainingData(table, y), FoldPlan.make(y, 3, "binary", 0), TimeBudget(None))


def test_a_forest_short_of_time_grows_fewer_trees_in_every_fold_rather_than_being_abandoned():
    table, y = _table()
    plan = FoldPlan.make(y, 5, "binary", seed=0)
    # A schedule that abandons any model whose first folds project past a millionth of the time left:
    # a kNN is abandoned after its first wave; a forest, whose folds stop with the trees they
    # have, trains every fold (letter at 30 s threw away 7 s of extra trees' finished folds).
    eager = replace(SCHEDULE, abandon_factor=1e-6)
    knn = BaggedModel(ModelConfig("knn", "knn", {}), TaskInfo("binary", 2), seed=0, n_threads=2)
    with pytest.raises(ModelTimeout, match="folds left would need"):
        knn.fit(TrainingData(table, y), plan, TimeBudget(60.0), eager)
    forest = BaggedModel(ModelConfig("et", "extra_trees", {"n_estimators": 100_000}), TaskInfo("binary", 2), seed=0,
                         n_threads=2)
    budget = TimeBudget(3.0)
    oof = forest.fit(TrainingData(table, y), plan, budget, eager)
    assert budget.elapsed() < 3.0 + 1.0
    trees = [copy.trees_.n_trees for copy in forest.models_]
    assert len(trees) == 5 and min(trees) >= MIN_TREES and max(trees) < 100_000
    assert get_metric("roc_auc", "binary").score(y, oof) > 0.8
    # its refit on all rows grows as many trees as its copies did, not the 100,000 configured
    refit_params = ExtraTreesModel.full_params(forest.params_, forest.models_, 1.25)
    assert refit_params["n_estimators"] == round(np.mean(trees))


def test_a_forest_whose_budget_cannot_grow_trees_enough_gives_up_once_its_trees_are_priced(monkeypatch):
    table, y = _table()
    with pytest.raises(ModelTimeout, match=f"of the {MIN_TREES} trees a forest needs"):
        ExtraTreesModel({}, TaskInfo("binary", 2), seed=0, n_threads=1).fit(table, y, budget=TimeBudget(0.0))
    # A clock that says the first chunk of 10 trees took 10 s: 5 s pays for fewer than MIN_TREES,
    # so the forest stops after that chunk instead of growing until the budget ends.
    monkeypatch.setattr(sklearn_models.time, "perf_counter", itertools.count(0.0, 10.0).__next__)
    budget = TimeBudget(5.0)
    with pytest.raises(ModelTimeout, match="trees a forest needs"):
        ExtraTreesModel({}, TaskInfo("binary", 2), seed=0, n_threads=1).fit(table, y, budget=budget)
    assert budget.elapsed() < 2.0
    monkeypatch.undo()
    # A forest configured with fewer trees than MIN_TREES needs only those.
    small = ExtraTreesModel({"n_estimators": 12}, TaskInfo("binary", 2), seed=0, n_threads=1)
    assert small.fit(table, y, budget=TimeBudget(60.0)).trees_.n_trees == 12


def test_the_first_configuration_trained_is_a_boosting_one():
    configs = [ModelConfig("lin", "linear", {}), ModelConfig("knn", "knn", {}), ModelConfig("cb", "catboost", {}),
               ModelConfig("lgb", "lightgbm", {})]
    assert [c.name for c in strong_first(configs)] == ["cb", "lin", "knn", "lgb"]
    linear_only = [ModelConfig("lin", "linear", {})]
    assert strong_first(linear_only) == linear_only


def test_a_fit_that_runs_out_of_configurations_gives_the_search_the_time_and_says_why(mixed_classification,
                                                                                       caplog):
    X, y = mixed_classification
    with caplog.at_level(logging.INFO, logger="automl"):
        model = AutoMLClassifier(time_limit=40, models=["linear"], n_folds=3, verbosity=1).fit(X, y)
    assert model.fit_seconds_ < 40 * 1.05 + 3
    assert any("before the time limit: 2 of 2 configurations were trained" in r.getMessage()
               for r in caplog.records)


def test_win_probability_scales_with_the_evidence():
    rng = np.random.default_rng(0)
    metric = get_metric("log_loss", "binary")
    y = rng.integers(0, 2, size=2000)
    truth = np.where(y == 1, 0.7, 0.3)
    good = np.column_stack([1 - truth, truth])
    noisy_p = np.clip(truth + rng.normal(scale=0.15, size=len(y)), 0.02, 0.98)
    noisy = np.column_stack([1 - noisy_p, noisy_p])
    assert win_probability(metric, y, good, good, task="binary") == 0.5
    assert win_probability(metric, y, good, noisy, task="binary") > 0.99
    assert win_probability(metric, y, noisy, good, task="binary") < 0.01
    # the same small edge is clear on many rows and a coin toss on a few
    slightly = np.clip(noisy_p + 0.03 * (truth - noisy_p) / 0.15, 0.02, 0.98)
    better = np.column_stack([1 - slightly, slightly])
    few = np.arange(60)
    assert win_probability(metric, y[few], better[few], noisy[few], task="binary") < \
        win_probability(metric, y, better, noisy, task="binary")
    assert effective_rows(np.array([0] * 90 + [1] * 10), "binary") == 20
    assert effective_rows(np.zeros(50), "regression") == 50


def test_the_search_switches_strategy_only_on_evidence():
    rng = np.random.default_rng(0)
    n = 400
    y = rng.integers(0, 2, size=n)
    store = PredictionStore(y, "binary", "log_loss", FoldPlan.make(y, 4, "binary", 0).fold_of)
    base = np.clip(np.where(y == 1, 0.65, 0.35) + rng.normal(scale=0.2, size=n), 0.02, 0.98)
    store.add(ModelRecord("m", "lightgbm", {}, 1.0, 0.1, 0.0), np.column_stack([1 - base, base]))
    search = Search(EnsembleData.from_store(store), FitContext.of(get_metric("log_loss", "binary"), "binary", 2))
    as_proba = lambda p: np.column_stack([1 - p, p]).astype(np.float32)  # noqa: E731
    # moves each row a little towards its label or away from it, slightly more often towards
    toward = np.where(rng.random(n) < 0.55, 1.0, -1.0)
    tiny_edge = as_proba(np.clip(base + 0.1 * toward * (y - base), 0.02, 0.98))
    clear_edge = as_proba(np.clip(base + 0.3 * (y - base), 0.02, 0.98))
    honest = {"best": as_proba(base), "ges": as_proba(base), "stacking": tiny_edge}
    rows = {name: {} for name in honest}
    winner, reason = search._chain(honest, rows)
    assert winner == "best" and "stacking beat it on only" in reason
    assert rows["stacking"]["evidence_needed"] == 0.99  # 400 rows are few for a strategy that learns from rows
    honest["stacking"] = clear_edge
    winner, reason = search._chain(honest, rows)
    assert winner == "stacking" and rows["stacking"]["win_probability"] > 0.99


@pytest.mark.parametrize("limit, remaining, training_left, refit, expected", [
    (None, float("inf"), 0.0, 0.0, (120.0, 50)),      # no limit: the search's own cap
    (100.0, 30.0, 1.0, 0.0, (25.0, 50)),              # training used its share: at most 25% of the limit
    (100.0, 12.0, 1.0, 4.0, (7.0, 50)),               # what is left, less saving (1 s) and the refit (4 s)
    (100.0, 40.0, 20.0, 50.0, (29.0, 200)),           # training ended early: all that is left, more trials,
])                                                    # less saving and the refit capped at its 10% share
def test_the_search_gets_its_seconds_from_the_facts_after_training(limit, remaining, training_left, refit, expected):
    assert SCHEDULE.search_seconds(limit, remaining, training_left, refit) == pytest.approx(expected)


def test_the_refit_plan_pays_for_the_most_prediction_time_saved_per_second_first():
    costs = {"cheap_slow_predictor": 1.0, "costly": 8.0, "cheap_fast": 2.0}
    savings = {"cheap_slow_predictor": 5.0, "costly": 4.0, "cheap_fast": 0.1}
    # 10 s left, 1 s kept for saving: 1 + 8 fit, the one saving least per second waits
    assert SCHEDULE.refit_order(costs, savings, 10.0) == (["cheap_slow_predictor", "costly"], ["cheap_fast"])
    assert SCHEDULE.refit_order(costs, savings, None) == (["cheap_slow_predictor", "cheap_fast", "costly"], [])


def _boosted_copy(trained_rounds: int, best_rounds: int):
    return SimpleNamespace(rounds_=SimpleNamespace(done=trained_rounds), best_rounds=best_rounds)


def test_a_refit_is_priced_at_one_wave_of_copies_scaled_by_the_rows_and_the_rounds():
    bag = BaggedModel(ModelConfig("m", "lightgbm", {}), TaskInfo("binary", 2), seed=0, n_threads=2)
    # Copies that early-stopped at 50 rounds after 100: the refit on twice the rows trains 100.
    bag.models_, bag.fit_seconds_, bag.copy_fit_rows_ = [_boosted_copy(100, 50)] * 5, 12.0, 100.0
    bag.workers_ = 2  # 5 copies side by side on 2 workers: 3 waves of 4 s
    assert bag.refit_cost(200) == pytest.approx(8.0)
    bag.workers_ = 1
    assert bag.refit_cost(200) == pytest.approx(12.0 / 5 * 2)
    bag.save_seconds_ = 1.0  # the bag is saved again with the refit: its copies and one more, twice the rows
    assert bag.refit_cost(200) == pytest.approx(12.0 / 5 * 2 + 1.0 * (1 + 2 / 5))
    # Copies whose budget stopped them at their best round: the refit's 100 rounds are twice
    # theirs, on twice the rows (a 200,000-row CatBoost refit priced at rows alone took twice its price).
    bag.models_, bag.save_seconds_ = [_boosted_copy(50, 50)] * 5, 0.0
    assert bag.refit_cost(200) == pytest.approx(12.0 / 5 * 4)


def test_a_refit_growth_counts_what_the_copies_trained_or_a_loaded_copy_its_best():
    assert CatBoostModel.refit_growth([_boosted_copy(300, 200)] * 2, 1.5) == pytest.approx(1.0)
    assert CatBoostModel.refit_growth([SimpleNamespace(best_rounds=200)] * 2, 1.5) == pytest.approx(1.5)
    assert ExtraTreesModel.refit_growth([None], 1.5) == 1.0  # a forest's refit grows the trees its copies did
    from automl.models.tabm import TabMModel

    # 40 epochs trained, the best the 30th: the refit on twice the rows trains 60
    assert TabMModel.refit_growth([SimpleNamespace(history_=[{}] * 40, best_epoch_=29)], 2.0) == pytest.approx(1.5)


def test_a_bag_times_its_save(tmp_path):
    table, y = _table()
    bag = BaggedModel(ModelConfig("m", "linear", {}), TaskInfo("binary", 2), seed=0, n_threads=1)
    bag.fit(TrainingData(table, y), FoldPlan.make(y, 3, "binary", 0), TimeBudget(None))
    assert bag.save_seconds_ == 0.0
    bag.save(tmp_path / "m")
    assert bag.save_seconds_ > 0.0

"""The auto ensemble search: defaults first, honest scoring, time limits, reports."""
from __future__ import annotations

import json
import time

import numpy as np
import pandas as pd
import pytest

from automl.ensemble.data import EnsembleData
from automl import AutoMLClassifier
from automl.budget import TimeBudget
from automl.ensemble.pool import select_pool
from automl.metrics import get_metric
from automl.ensemble.greedy import GreedyEnsemble
from automl.ensemble.lighten import LIGHTEN_TOLERANCE, Lightener
from automl.ensemble.search import DEFAULT_TRIALS, Search, Trial, search_ensemble
from automl.context import FitContext
from automl.store import ModelRecord, PredictionStore
from automl.folds import FoldPlan

from conftest import FAST
from strategy_data import synthetic_store


def _prediction_store(n_models=5, n_rows=300) -> PredictionStore:
    predictions, y = synthetic_store("binary", n_models=n_models, n_rows=n_rows)
    store = PredictionStore(y, "binary", "roc_auc", FoldPlan.make(y, 4, "binary", 0).fold_of)
    for j, p in enumerate(predictions):
        store.add(ModelRecord(f"m{j}", ["lightgbm", "linear"][j % 2], {}, 1.0, 0.1, 0.0), p)
    return store


def _search(store: PredictionStore, metric, budget: TimeBudget, n_trials: int, seed: int = 0):
    return search_ensemble(EnsembleData.from_store(store), FitContext.of(metric, store.task, 2, seed=seed),
                           budget, n_trials)


def _study(store: PredictionStore, metric) -> Search:
    return Search(EnsembleData.from_store(store), FitContext.of(metric, store.task, 2))


def test_search_runs_defaults_first_and_reports_one_winner(tmp_path):
    store = _prediction_store()
    result = _search(store, get_metric("roc_auc", "binary"), TimeBudget(60), 12)
    first = [(e.strategy, e.params.get("n_iterations")) for e in result.trace[:3]]
    assert first == [("best", None), ("ges", 25), ("ges", 50)]
    assert result.report["chosen"].sum() == 1 and result.report["guard_score"].notna().all()
    winner = result.report[result.report["chosen"]].iloc[0]
    assert winner["reason"] and winner["strategy"] == result.strategy.name
    predictions = result.strategy.predict(store.oof, store.features)
    assert predictions.shape == (len(store.y), 2)
    result.save_trace(tmp_path / "trace.json")
    assert len(json.loads((tmp_path / "trace.json").read_text())["trials"]) == len(result.trace)
    assert len(DEFAULT_TRIALS) == 3


def test_search_is_reproducible_and_stays_within_its_budget():
    store = _prediction_store()
    metric = get_metric("roc_auc", "binary")
    start = time.monotonic()
    runs = [_search(store, metric, TimeBudget(4.0), 200) for _ in range(2)]
    assert time.monotonic() - start < 2 * 4.0 + 4.0  # each: 4 s plus the final refit of a cheap winner
    short = _search(store, metric, TimeBudget(30), 8, seed=1)
    again = _search(store, metric, TimeBudget(30), 8, seed=1)
    assert [e.strategy for e in short.trace] == [e.strategy for e in again.trace]
    pd.testing.assert_frame_equal(short.report.drop(columns="predict_seconds_per_1k"),
                                  again.report.drop(columns="predict_seconds_per_1k"))
    assert all(len(r.trace) >= 1 for r in runs)


def test_members_that_cost_prediction_time_and_add_nothing_are_dropped():
    # y depends on a and b: m0 reads a, m1 reads b (both needed); m2 is m0 again, costly to predict.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 800))
    y = (a + b + 0.5 * rng.normal(size=800) > 0).astype(int)
    columns = [1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-b))]
    columns.append(np.clip(columns[0] + 1e-4 * rng.normal(size=800), 0, 1))
    store = PredictionStore(y, "binary", "roc_auc", FoldPlan.make(y, 4, "binary", 0).fold_of)
    for j, (p, cost, family) in enumerate(zip(columns, [0.1, 5.0, 50.0], ["lightgbm", "linear", "knn"])):
        store.add(ModelRecord(f"m{j}", family, {}, 1.0, cost, 0.0), np.column_stack([1 - p, p]))
    metric = get_metric("roc_auc", "binary")
    result = _search(store, metric, TimeBudget(60), 6)
    assert set(result.strategy.used_models) == {0, 1}
    every = GreedyEnsemble(metric, "binary", n_iterations=50).fit(EnsembleData(store.oof, y))
    full = metric.score(y, every.predict(store.oof))
    assert metric.score(y, result.strategy.predict(store.oof)) >= full * (1 - LIGHTEN_TOLERANCE)


def test_a_stacking_winner_is_refitted_on_the_members_ges_picks_when_that_costs_nothing():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 600))
    y = (a + b + 0.5 * rng.normal(size=600) > 0).astype(int)
    columns = [1 / (1 + np.exp(-a)), 1 / (1 + np.exp(-b))] + [rng.uniform(size=600) for _ in range(4)]
    store = PredictionStore(y, "binary", "roc_auc", FoldPlan.make(y, 4, "binary", 0).fold_of)
    for j, p in enumerate(columns):  # two informative models, four costly ones that know nothing
        store.add(ModelRecord(f"m{j}", "lightgbm", {}, 1.0, 0.1 if j < 2 else 10.0, 0.0), np.column_stack([1 - p, p]))
    metric = get_metric("roc_auc", "binary")
    search = _study(store, metric)
    entry = Trial(0, "stacking", {"guard": False}, None)
    full = search._final(entry, TimeBudget(60))
    assert len(full.used_models) == 6
    lightener = Lightener(lambda name, params, pool: search._make(name, params, pool).fit(search.data, None),
                          search._oof_loss, np.array([r.predict_seconds_per_1k for r in store.records]), TimeBudget(60))
    assert lightener.lighten(full, "stacking", {"guard": False}, None, fit_seconds=100)[0] is full  # no time
    lighter, _ = lightener.lighten(full, "stacking", {"guard": False}, None, fit_seconds=1)
    assert set(lighter.used_models) <= {0, 1}
    honest = metric.score(y, lighter.predict_oof(store.oof, store.features))
    assert honest >= metric.score(y, full.predict_oof(store.oof, store.features)) * (1 - LIGHTEN_TOLERANCE)


def test_pool_filter_keeps_the_best_per_family():
    losses = np.array([0.3, 0.1, 0.2, 0.4, 0.05])
    families = ["a", "a", "a", "b", "b"]
    np.testing.assert_array_equal(select_pool(losses, families), [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(select_pool(losses, families, family_cap=1), [1, 4])
    np.testing.assert_array_equal(select_pool(losses, families, top_k=2, family_cap=2), [1, 4])
    np.testing.assert_array_equal(select_pool(losses, families, top_k=3), [1, 2, 4])


def test_auto_is_the_default_and_reports_in_the_run_folder(mixed_classification, tmp_path):
    X, y = mixed_classification
    model = AutoMLClassifier(time_limit=30, output_dir=str(tmp_path / "run"), **FAST).fit(X, y)
    assert model.ensemble == "auto" and model.ensemble_name_ == "auto"
    report = model.ensemble_report()
    assert {"strategy", "cv_score", "guard_score", "honest_score", "win_probability", "evidence_needed",
            "models_used", "predict_seconds_per_1k", "chosen", "reason"} <= set(report.columns)
    assert report["chosen"].sum() == 1
    assert (tmp_path / "run" / "ensemble_search.json").exists()
    board = model.leaderboard()
    assert board["ensemble_weight"].sum() == pytest.approx(1.0) or board["ensemble_weight"].isin([0, 1]).all()
    start = time.monotonic()
    model.fit_ensemble("auto", time_limit=3)  # its own cap, whatever the fit's limit was
    assert time.monotonic() - start < 3 + 3
    model.fit_ensemble("qdo", time_limit=10)
    assert model.ensemble_report()["strategy"].tolist() == ["qdo"]
    assert model.leaderboard()["ensemble_weight"].sum() == pytest.approx(1.0)
    assert model.predict_proba(X).shape == (len(X), 2)


def test_unknown_ensemble_fails_before_training(mixed_classification):
    X, y = mixed_classification
    start = time.monotonic()
    with pytest.raises(ValueError, match="ensemble must be .auto. or one of"):
        AutoMLClassifier(ensemble="voting", **FAST).fit(X, y)
    assert time.monotonic() - start < 5


def test_auto_fit_ends_within_its_time_limit(mixed_classification):
    X, y = mixed_classification
    start = time.monotonic()
    AutoMLClassifier(time_limit=15, models=["lightgbm", "linear", "knn", "extra_trees"], n_folds=3,
                     verbosity=0).fit(X, y)
    assert time.monotonic() - start < 15 * 1.05 + 3


def test_stacking_layers_get_a_child_of_the_study_budget(monkeypatch):
    """Stacking's share starts with its first trial, but never outlives the study that gave it."""
    from automl.ensemble.stacking import StackingEnsemble
    seen = []

    def fit_layers(self, data, budget):
        seen.append(budget.remaining())
        raise RuntimeError("stop here")

    monkeypatch.setattr(StackingEnsemble, "fit_layers", fit_layers)
    late = _study(_prediction_store(), get_metric("roc_auc", "binary"))
    late.study_budget, late.stacking_seconds = TimeBudget(2.0), 100.0  # a late start: 2 s of the study left
    with pytest.raises(RuntimeError, match="stop here"):
        StackingEnsemble.trial_inputs(late)
    assert seen and seen[0] <= 2.0


def test_a_registered_strategy_is_searched_with_the_settings_it_suggests(monkeypatch):
    """The extension point: one class and one registry entry; the search has no line for it."""
    from automl.ensemble import STRATEGIES
    from automl.ensemble.greedy import GreedyEnsemble

    class Short(GreedyEnsemble):  # GES of few steps, as a stand-in for a new strategy
        name, complexity = "short", 7

        @classmethod
        def suggest(cls, trial, search):
            return {"n_iterations": trial.suggest_int("short_steps", 1, 3)}, search.suggest_pool(trial, top_k=(2,))

    monkeypatch.setitem(STRATEGIES, "short", Short)
    result = _search(_prediction_store(), get_metric("roc_auc", "binary"), TimeBudget(None), 40)
    tried = [e for e in result.trace if e.strategy == "short"]
    assert tried and all(1 <= e.params["n_iterations"] <= 3 and len(e.pool) <= 2 for e in tried)


def test_strategies_too_costly_for_the_store_are_left_out():
    search = _study(_prediction_store(), get_metric("roc_auc", "binary"))
    assert list(search.strategies) == ["best", "ges", "cmaes", "qo", "qdo", "des", "stacking"]  # simplest first
    from automl.ensemble.dynamic import DynamicSelection
    from automl.ensemble.stacking import StackingEnsemble
    assert DynamicSelection.too_costly(10, 60_000, 2) and not DynamicSelection.too_costly(10, 40_000, 2)
    assert StackingEnsemble.too_costly(200, 60_000, 2) and not StackingEnsemble.too_costly(20, 60_000, 2)


def test_a_registered_strategy_declaring_the_second_step_challenges_the_single_best_model(monkeypatch):
    """The decision chain is built from declared steps, not names: a new strategy at step 1 competes
    with GES there, and the stronger of the two challenges the single best model."""
    from automl.ensemble import STRATEGIES
    from automl.ensemble.greedy import GreedyEnsemble

    class Rival(GreedyEnsemble):
        name, complexity, chain_step = "rival", 7, 1

    monkeypatch.setitem(STRATEGIES, "rival", Rival)
    search = _study(_prediction_store(), get_metric("roc_auc", "binary"))
    y = search.data.y
    noisy = np.random.default_rng(0).uniform(size=len(y))
    as_proba = lambda p: np.column_stack([1 - p, p]).astype(np.float32)  # noqa: E731
    honest = {"best": as_proba(0.5 * noisy + 0.25 * y), "ges": as_proba(0.5 * noisy + 0.3 * y),
              "rival": as_proba(0.3 * noisy + 0.6 * y)}
    rows = {name: {} for name in honest}
    winner, reason = search._chain(honest, rows)
    assert winner == "rival" and "rival beat best" in reason and rows["ges"] == {}

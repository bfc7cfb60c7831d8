"""Model folders: every family and strategy saves and loads without pickle, and predicts the same;
damaged, incomplete or foreign folders are refused with one clear message naming the file."""
import json
import shutil

import numpy as np
import pandas as pd
import pytest

import automl
from automl.ensemble.data import EnsembleData
from automl.data.training import TrainingData
from automl import AutoMLClassifier, AutoMLRegressor
from automl.ensemble import STRATEGIES, strategy_from_state
from automl.ensemble.pool import Pooled
from automl.metrics import get_metric
from automl.models.registry import FAMILIES
from automl.persistence import ModelFolderError, read_state, write_state
from strategy_data import synthetic_store

# One small configuration per family, so a fit with all of them takes seconds.
TINY = [
    {"name": "lgb", "family": "lightgbm", "params": {"max_rounds": 40, "learning_rate": 0.2}},
    {"name": "xgb", "family": "xgboost", "params": {"max_rounds": 40, "learning_rate": 0.2}},
    {"name": "cat", "family": "catboost", "params": {"max_rounds": 40, "learning_rate": 0.2}},
    {"name": "rf", "family": "random_forest", "params": {"n_estimators": 20}},
    {"name": "et", "family": "extra_trees", "params": {"n_estimators": 20}},
    {"name": "lin", "family": "linear", "params": {}},
    {"name": "knn", "family": "knn", "params": {}},
    # 10 epochs: at 3 TabM learned next to nothing (OOF log loss 0.996), and its refit, which the
    # refit tests expect to be kept, scored worse than its calibrated copies and was not kept.
    {"name": "tabm", "family": "tabm", "params": {"k": 2, "d_block": 16, "max_epochs": 10, "n_bins": 4,
                                                "d_embedding": 4}, "options": {"min_epochs": 1}},
]


@pytest.fixture(scope="module")
def portfolio(tmp_path_factory):
    assert {c["family"] for c in TINY} == set(FAMILIES)  # a new family gets a line above
    path = tmp_path_factory.mktemp("portfolio") / "tiny.json"
    path.write_text(json.dumps({"name": "tiny", "configs": TINY}))
    return path


@pytest.fixture(scope="module")
def fitted(portfolio, table):
    X, y = table
    model = AutoMLClassifier(portfolio=str(portfolio), ensemble="ges", n_folds=3, verbosity=0)
    return model.fit(X, y), X


@pytest.fixture(scope="module")
def table():
    """Three classes from numbers, a category and a boolean, with missing numbers."""
    rng = np.random.default_rng(1)
    n = 240
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                      "color": rng.choice(["red", "green", "blue"], size=n), "flag": rng.random(n) < 0.3})
    X.loc[rng.random(n) < 0.1, "a"] = np.nan
    y = np.where(X["b"] + (X["color"] == "red") > 0.5, "high", np.where(X["b"] < -0.5, "low", "mid"))
    return X, y


def test_every_family_saves_and_loads_without_pickle_and_predicts_identically(fitted, tmp_path, no_pickle):
    model, X = fitted
    assert {r.family for r in model.records_} == set(FAMILIES)  # every family trained
    expected = {name: model._bag(name).predict(model.encoder_.transform(X)) for name in model.models_}
    before = model.predict_proba(X)
    model.save(tmp_path / "m", include_run=True)
    loaded = automl.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(X), before)
    for name, prediction in expected.items():  # every bag, used by the ensemble or not
        assert np.array_equal(loaded._bag(name).predict(loaded.encoder_.transform(X)), prediction), name
    assert loaded.leaderboard().equals(model.leaderboard())


@pytest.mark.parametrize("strategy", sorted(STRATEGIES))
def test_each_strategy_of_a_fit_saves_and_loads_without_pickle(fitted, tmp_path, no_pickle, strategy):
    model, X = fitted
    model.fit_ensemble(strategy, time_limit=30)
    before = model.predict_proba(X)
    model.save(tmp_path / "m")
    loaded = automl.load(tmp_path / "m")
    assert np.array_equal(loaded.predict_proba(X), before)
    assert np.array_equal(loaded.predict(X), model.predict(X))
    # The predictor keeps only the models its ensemble reads.
    assert sorted(p.name for p in (tmp_path / "m" / "models").iterdir()) == \
        sorted(model.records_[j].name for j in model.ensemble_.used_models)


@pytest.mark.parametrize("name", sorted(STRATEGIES) + ["stacking_layers", "pooled_qdo"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_strategy_state_round_trip(name, task, tmp_path):
    """Conformance: a fitted strategy's state, written and read back, predicts exactly as it did."""
    predictions, y = synthetic_store(task, n_models=4, n_rows=150)
    metric = get_metric(None, task)
    fold_of = np.arange(len(y)) % 3
    if name == "stacking_layers":  # the guard may switch stacking off; this keeps its layers
        strategy = STRATEGIES["stacking"](metric, task, guard=False)
    elif name == "pooled_qdo":
        strategy = Pooled(STRATEGIES["qdo"](metric, task), np.array([0, 2, 3]))
    else:
        strategy = STRATEGIES[name](metric, task)
    strategy.fit(EnsembleData(predictions, y, fold_of=fold_of))
    if name == "stacking_layers":
        assert strategy.layers_
    write_state(tmp_path, "s", strategy.get_state())
    restored = strategy_from_state(read_state(tmp_path, "s"), metric, task)
    fresh, _ = synthetic_store(task, n_models=4, n_rows=60, seed=5)
    assert np.array_equal(restored.predict(fresh), strategy.predict(fresh))
    assert np.array_equal(restored.used_models, strategy.used_models)


def test_a_damaged_incomplete_or_foreign_folder_is_refused_naming_the_file(fitted, tmp_path):
    model, X = fitted
    model.fit_ensemble("best")
    model.save(tmp_path / "m")
    bag = next((tmp_path / "m" / "models").iterdir())
    damaged = shutil.copytree(tmp_path / "m", tmp_path / "damaged")
    target = damaged / "models" / bag.name / "bag.json"
    target.write_text(target.read_text().replace('"seed": 0', '"seed": 1'))
    with pytest.raises(ModelFolderError, match=f"models/{bag.name}/bag.json does not match its checksum"):
        automl.load(damaged)
    incomplete = shutil.copytree(tmp_path / "m", tmp_path / "incomplete")
    (incomplete / "estimator.npz").unlink()
    with pytest.raises(ModelFolderError, match="estimator.npz is missing"):
        automl.load(incomplete)
    future = shutil.copytree(tmp_path / "m", tmp_path / "future")
    manifest = json.loads((future / "manifest.json").read_text())
    (future / "manifest.json").write_text(json.dumps({**manifest, "format_version": 2}))
    with pytest.raises(ModelFolderError, match="manifest.json: format 'automl-model' version 2"):
        automl.load(future)
    with pytest.raises(ModelFolderError, match="not an automl model folder"):
        automl.load(tmp_path)


def test_the_predictor_alone_predicts_but_cannot_re_ensemble(fitted, tmp_path):
    model, X = fitted
    model.fit_ensemble("ges")
    model.save(tmp_path / "m")
    loaded = automl.load(tmp_path / "m")
    assert loaded.store_ is None and len(loaded.leaderboard()) == len(model.records_)
    with pytest.raises(ValueError, match="saved without it"):
        loaded.fit_ensemble("best")
    with_run = tmp_path / "with-run"
    model.save(with_run, include_run=True)
    again = automl.load(with_run).fit_ensemble("qo", time_limit=20)
    assert again.ensemble_.name == "qo" and again.predict_proba(X).shape == (len(X), 3)


def test_a_regressor_with_its_run_folder_is_a_model_folder(regression_data, tmp_path):
    X, y = regression_data
    model = AutoMLRegressor(models=["lightgbm", "random_forest"], n_folds=3, verbosity=0,
                            output_dir=str(tmp_path / "run")).fit(X, y)
    loaded = automl.load(tmp_path / "run")  # the fit wrote its predictor into the run folder
    assert np.array_equal(loaded.predict(X), model.predict(X))


@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "catboost", "tabm", "random_forest"])
def test_a_refitted_member_trains_its_copies_size_on_all_rows_and_saves(family, table, tmp_path):
    from automl.models.bagging import BaggedModel
    from automl.models.base import ModelConfig, TaskInfo
    from automl.budget import TimeBudget
    from automl.data.encoder import TabularEncoder
    from automl.folds import FoldPlan

    X, labels = table
    y = np.unique(labels, return_inverse=True)[1]
    features = TabularEncoder().fit(X).transform(X)
    entry = next(c for c in TINY if c["family"] == family)
    bag = BaggedModel(ModelConfig("m", family, entry["params"], entry.get("options", {})), TaskInfo("multiclass", 3),
                      seed=0, n_threads=1)
    bag.fit(TrainingData(features, y), FoldPlan.make(y, 3, "multiclass", 0), TimeBudget(None))
    bagged = bag.predict(features)
    bag.refit(TrainingData(features, y), TimeBudget(None))
    assert bag.full_ is not None and not np.array_equal(bag.predict(features), bagged)
    if family in ("lightgbm", "xgboost", "catboost"):  # the copies' mean best round count, scaled by the rows
        expected = np.mean([c.rounds_.best_iteration + 1 for c in bag.models_]) * len(y) / bag.copy_fit_rows_
        assert bag.full_.rounds_.done == max(1, int(round(expected)))
    bag.save(tmp_path / "m")
    loaded = BaggedModel.load(tmp_path / "m")
    assert np.array_equal(loaded.predict(features), bag.predict(features))
    loaded.refit(TrainingData(features, y), TimeBudget(None))  # a resumed run refits loaded bags
    np.testing.assert_allclose(loaded.predict(features), bag.predict(features), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("ensemble", ["ges", "des"])
def test_refit_changes_predictions_not_the_ensemble_and_survives_saving(portfolio, table, tmp_path, no_pickle,
                                                                        ensemble):
    """Refitted members only feed the chosen ensemble at predict time (DES reads them with the
    features): the OOF predictions it was chosen and fitted on are the fold copies' own."""
    X, y = table
    common = dict(portfolio=str(portfolio), ensemble=ensemble, n_folds=3, verbosity=0)
    bagged = AutoMLClassifier(refit=False, **common).fit(X, y)
    refitted = AutoMLClassifier(refit=True, **common).fit(X, y)
    # The refit comes after the ensemble is chosen on the OOF predictions, which it never touches.
    assert np.array_equal(refitted.store_.oof, bagged.store_.oof)
    assert np.array_equal(refitted.ensemble_.predict_oof(refitted.store_.oof, refitted.store_.features),
                          bagged.ensemble_.predict_oof(bagged.store_.oof, bagged.store_.features))
    members = {refitted.records_[j].name for j in refitted.ensemble_.used_models}
    assert set(refitted.refitted_) == members and bagged.refitted_ == []
    assert refitted.leaderboard().set_index("config").loc[sorted(members), "refit"].all()
    assert not np.array_equal(refitted.predict_proba(X), bagged.predict_proba(X))
    refitted.save(tmp_path / "m")
    assert np.array_equal(automl.load(tmp_path / "m").predict_proba(X), refitted.predict_proba(X))


class _SameForEveryRow:
    """A refit gone wrong (as LightGBM's did at a raised learning rate): one prediction for every row."""

    def __init__(self, n_outputs: int):
        self.n_outputs = n_outputs

    def predict(self, X):
        return np.full((len(X), self.n_outputs), 1.0 / max(self.n_outputs, 2), dtype=np.float32)


def test_a_refit_that_learned_less_than_its_copies_is_not_kept(portfolio, table, monkeypatch, caplog):
    from automl.models.bagging import BaggedModel

    X, y = table
    common = dict(portfolio=str(portfolio), ensemble="ges", n_folds=3, verbosity=1)
    bagged = AutoMLClassifier(refit=False, **common).fit(X, y)
    refit = BaggedModel.refit

    def broken(bag, data, budget):
        refit(bag, data, budget)
        bag.full_ = _SameForEveryRow(bag.info.n_outputs)

    monkeypatch.setattr(BaggedModel, "refit", broken)
    with caplog.at_level("INFO", logger="automl"):
        model = AutoMLClassifier(refit=True, **common).fit(X, y)
    assert model.refitted_ == [] and "worse than its fold copies' " in caplog.text
    assert np.array_equal(model.predict_proba(X), bagged.predict_proba(X))  # the copies predict, as without refit


def test_auto_refit_is_skipped_with_a_log_line_when_the_time_left_cannot_pay(portfolio, table, caplog, monkeypatch):
    from automl.models.bagging import BaggedModel

    X, y = table
    monkeypatch.setattr(BaggedModel, "refit_cost", lambda bag, n_rows: 1e6)  # as if each refit took days
    with caplog.at_level("INFO", logger="automl"):
        model = AutoMLClassifier(portfolio=str(portfolio), ensemble="ges", n_folds=3, time_limit=60, refit="auto",
                                 verbosity=1).fit(X, y)
    assert model.refitted_ == [] and "Refit skipped" in caplog.text


def test_auto_refit_refits_the_members_whose_cost_fits(portfolio, table, monkeypatch):
    from automl.models.bagging import BaggedModel

    X, y = table
    monkeypatch.setattr(BaggedModel, "refit_cost",  # kNN's refit as if it took days, the others a moment
                        lambda bag, n_rows: 1e6 if bag.config.family == "knn" else 1e-3)
    model = AutoMLClassifier(portfolio=str(portfolio), ensemble="des", n_folds=3, time_limit=60, refit="auto",
                             verbosity=0).fit(X, y)
    members = {model.records_[j].name: model.records_[j].family for j in model.ensemble_.used_models}
    assert "knn" in members.values()  # DES reads every model
    assert set(model.refitted_) == {name for name, family in members.items() if family != "knn"}


def test_auto_refit_keeps_the_copies_of_knn_whose_refit_predicts_otherwise(portfolio, table, monkeypatch):
    from automl.models.bagging import BaggedModel

    X, y = table
    monkeypatch.setattr(BaggedModel, "refit_cost", lambda bag, n_rows: 1e-3)  # every refit affordable
    model = AutoMLClassifier(portfolio=str(portfolio), ensemble="des", n_folds=3, time_limit=60, refit="auto",
                             verbosity=0).fit(X, y)
    members = {model.records_[j].name: model.records_[j].family for j in model.ensemble_.used_models}
    assert "knn" in members.values()
    assert set(model.refitted_) == {name for name, family in members.items() if family != "knn"}
    forced = AutoMLClassifier(portfolio=str(portfolio), ensemble="des", n_folds=3, refit=True, verbosity=0).fit(X, y)
    assert set(forced.refitted_) == set(members)  # refit=True: every member, as asked

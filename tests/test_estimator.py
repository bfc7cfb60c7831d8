"""The estimators end to end: scikit-learn conventions, labels, persistence, reports."""
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

import automl
from automl import AutoMLClassifier, AutoMLRegressor
from conftest import FAST


def test_classifier_learns_mixed_table_and_round_trips_string_labels(mixed_classification, tmp_path):
    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, output_dir=str(tmp_path / "run"))
    assert model.fit(X[:200], y[:200]) is model
    assert list(model.classes_) == ["no", "yes"]
    proba = model.predict_proba(X[200:])
    assert proba.shape == (100, 2) and np.allclose(proba.sum(axis=1), 1)
    assert roc_auc_score(y[200:] == "yes", proba[:, 1]) > 0.85
    assert set(model.predict(X[200:])) <= {"no", "yes"}
    assert model.score(X[200:], y[200:]) > 0.75
    assert model.n_features_in_ == 5 and list(model.feature_names_in_) == list(X.columns)
    # the store was written to the run folder and reads back without refitting
    store = automl.store.PredictionStore.load(tmp_path / "run" / "store")
    assert store.names == model.store_.names and store.oof.shape[1:] == (200, 2)


@pytest.mark.parametrize("labels", [[True, False], [3, 7], ["b", "a"]])
def test_label_types_round_trip(labels):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=120)})
    y = np.where(X["a"] > 0, labels[0], labels[1])
    model = AutoMLClassifier(**FAST).fit(X, y)
    assert sorted(model.classes_.tolist()) == sorted(labels)
    predicted = model.predict(X)
    if not isinstance(labels[0], str):  # bools stay bools, ints stay ints
        assert predicted.dtype.kind == np.array(labels).dtype.kind
    assert (predicted == y).mean() > 0.9


def test_multiclass_probabilities_follow_classes(mixed_classification):
    X, _ = mixed_classification
    blurred = X["noise"] + np.random.default_rng(5).normal(scale=0.2, size=len(X))
    y = pd.cut(blurred, [-np.inf, -0.5, 0.5, np.inf], labels=["low", "mid", "high"]).astype(str)
    model = AutoMLClassifier(**FAST).fit(X, y)
    assert list(model.classes_) == ["high", "low", "mid"]
    proba = model.predict_proba(X)
    assert proba.shape == (300, 3)
    assert (model.classes_[proba.argmax(axis=1)] == model.predict(X)).all()
    assert (model.predict(X) == y).mean() > 0.75  # noise is a feature here


def test_regressor_and_dataframe_target_name(regression_data):
    X, y = regression_data
    table = X.assign(target=y)
    model = AutoMLRegressor(**FAST).fit(table[:200], "target")
    pred = model.predict(X[200:])
    rmse = np.sqrt(np.mean((pred - y[200:]) ** 2))
    assert rmse < 0.5 * y.std()
    assert model.task_ == "regression" and model.metric_ == "rmse"


def test_sklearn_conventions(mixed_classification):
    model = AutoMLClassifier(time_limit=30, models=["linear"], verbosity=0)
    params = model.get_params()
    assert params["time_limit"] == 30 and params["models"] == ["linear"]
    copy = clone(model.set_params(n_folds=3))
    assert copy.get_params()["n_folds"] == 3 and not hasattr(copy, "ensemble_")
    with pytest.raises(Exception, match="not fitted"):
        copy.predict(mixed_classification[0])


def test_save_load_and_pickle_give_identical_predictions(mixed_classification, tmp_path):
    X, y = mixed_classification
    model = AutoMLClassifier(**FAST).fit(X, y)
    expected = model.predict_proba(X)
    model.save(tmp_path / "model")
    loaded = automl.load(tmp_path / "model")
    assert np.array_equal(loaded.predict_proba(X), expected)
    assert np.array_equal(pickle.loads(pickle.dumps(model)).predict_proba(X), expected)


def test_same_seed_same_predictions(regression_data):
    X, y = regression_data
    first = AutoMLRegressor(**FAST).fit(X, y).predict(X)
    second = AutoMLRegressor(**FAST).fit(X, y).predict(X)
    assert np.array_equal(first, second)


def test_leaderboard_and_fit_ensemble(mixed_classification):
    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, ensemble="best").fit(X, y)
    board = model.leaderboard()
    assert list(board.columns) == ["config", "family", "adapted", "oof_roc_auc", "fit_seconds", "predict_seconds_per_1k",
                                   "ensemble_weight", "refit"]
    assert board["oof_roc_auc"].is_monotonic_decreasing
    assert board["ensemble_weight"].tolist()[0] == 1.0 and board["ensemble_weight"].sum() == 1.0
    assert model.fit_ensemble("ges") is model and model.ensemble_name_ == "ges"
    assert model.leaderboard()["ensemble_weight"].sum() == pytest.approx(1.0)
    assert model.ensemble_score_ >= board["oof_roc_auc"].max() - 1e-9  # GES starts from the best model
    with pytest.raises(ValueError, match="Unknown ensemble strategy"):
        model.fit_ensemble("magic")


def test_predict_runs_only_models_with_weight(mixed_classification, monkeypatch):
    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, ensemble="best").fit(X, y)
    unused = [n for j, n in enumerate(model.store_.names) if j not in model.ensemble_.used_models]
    assert unused
    for name in unused:
        monkeypatch.setattr(model.models_[name], "predict", lambda X: pytest.fail("unused model ran"))
    model.predict_proba(X)


def test_progress_lines_only_when_verbose(mixed_classification, capsys):
    X, y = mixed_classification
    AutoMLClassifier(**{**FAST, "verbosity": 1}).fit(X, y)
    assert "OOF roc_auc" in capsys.readouterr().err
    AutoMLClassifier(**FAST).fit(X, y)
    assert capsys.readouterr().err == ""

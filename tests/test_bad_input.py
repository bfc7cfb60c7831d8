"""Bad input gets a clear error naming the problem; recoverable oddities are handled quietly."""
import re
import time

import numpy as np
import pandas as pd
import pytest

from automl import AutoMLClassifier, AutoMLRegressor
from conftest import FAST


def _frame(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.choice(["x", "y", "z"], size=n)})
    return X, pd.Series(np.where(X["a"] > 0, "pos", "neg"), name="label")


def test_empty_table():
    with pytest.raises(ValueError, match="empty or too small"):
        AutoMLClassifier(**FAST).fit(pd.DataFrame({"a": [], "t": []}), "t")


def test_missing_target_column():
    X, _ = _frame()
    with pytest.raises(ValueError, match="Target column 'label' not found"):
        AutoMLClassifier(**FAST).fit(X, "label")


def test_all_missing_target():
    X, _ = _frame()
    with pytest.raises(ValueError, match="entirely missing"):
        AutoMLClassifier(**FAST).fit(X.assign(t=np.nan), "t")


def test_rows_with_missing_target_are_dropped_with_a_warning():
    X, y = _frame(80)
    y = y.astype(object)
    y[:5] = None
    with pytest.warns(UserWarning, match="Dropped 5 rows"):
        model = AutoMLClassifier(**FAST).fit(X, y)
    assert list(model.classes_) == ["neg", "pos"] and len(model.store_.y) == 75


def test_single_class():
    X, _ = _frame()
    with pytest.raises(ValueError, match="one class"):
        AutoMLClassifier(**FAST).fit(X, ["a"] * len(X))


def test_non_numeric_regression_target():
    X, y = _frame()
    with pytest.raises(ValueError, match="regression target must be numeric.*'(pos|neg)'"):
        AutoMLRegressor(**FAST).fit(X, y)


def test_mismatched_columns_at_predict():
    X, y = _frame()
    model = AutoMLClassifier(**FAST).fit(X, y)
    with pytest.raises(ValueError, match=r"Columns missing at predict: \['b'\]"):
        model.predict(X[["a"]])
    with pytest.warns(UserWarning, match="Ignoring columns not seen at fit: \\['new'\\]"):
        model.predict(X.assign(new=1))
    with pytest.raises(ValueError, match="X has 3 features, but AutoMLClassifier is expecting 2 features"):
        model.predict(np.zeros((2, 3)))


def test_mixed_object_column_missing_column_and_infinities():
    X, y = _frame(90)
    X["mixed"] = pd.Series([1, "two", 3.0] * 30, dtype=object)
    X["nothing"] = np.nan
    X.loc[::7, "a"] = np.inf
    model = AutoMLClassifier(**FAST).fit(X, y)
    assert model.encoder_.schema_.dropped == {"nothing": "all missing"}
    assert model.predict_proba(X).shape == (90, 2)


def test_duplicate_column_names():
    X = pd.DataFrame(np.zeros((10, 2)), columns=["a", "a"])
    with pytest.raises(ValueError, match=r"Duplicate column names: \['a'\]"):
        AutoMLClassifier(**FAST).fit(X, [0, 1] * 5)


def test_three_rows_fit_without_crashing():
    X = pd.DataFrame({"a": [0.0, 1.0, 2.0]})
    model = AutoMLRegressor(**FAST).fit(X, [1.0, 2.0, 3.0])
    assert np.isfinite(model.predict(X)).all()
    clf = AutoMLClassifier(**FAST).fit(X, ["a", "b", "a"])
    assert set(clf.predict(X)) <= {"a", "b"}


def test_unseen_categories_and_new_missing_values_at_predict():
    X, y = _frame()
    model = AutoMLClassifier(**FAST).fit(X, y)
    new = pd.DataFrame({"a": [np.nan, 0.5], "b": ["never seen", None]})
    assert np.isfinite(model.predict_proba(new)).all()


def test_only_useless_columns():
    X = pd.DataFrame({"const": [1] * 30, "empty": [np.nan] * 30})
    with pytest.raises(ValueError, match="No usable feature columns"):
        AutoMLClassifier(**FAST).fit(X, [0, 1] * 15)


def test_failing_model_is_skipped(monkeypatch):
    from automl.models.lightgbm import LightGBMModel

    def broken(self, *args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(LightGBMModel, "fit", broken)
    X, y = _frame()
    model = AutoMLClassifier(**FAST).fit(X, y)
    assert set(model.leaderboard()["family"]) == {"linear"}


def test_bad_parameters():
    X, y = _frame()
    with pytest.raises(ValueError, match="models must be None or a non-empty list of model families"):
        AutoMLClassifier(**{**FAST, "models": ["nope"]}).fit(X, y)
    with pytest.raises(ValueError, match="Metric 'rmse' does not apply to a binary task"):
        AutoMLClassifier(**{**FAST, "metric": "rmse"}).fit(X, y)


@pytest.mark.parametrize("name, value", [
    ("time_limit", -5), ("time_limit", 0), ("time_limit", "60"), ("models", "lightgbm"), ("models", []),
    ("ensemble", "voting"), ("n_folds", 1), ("n_folds", 2.5), ("metric", "auc"), ("device", "gpu"),
    ("random_state", None), ("verbosity", -1), ("n_jobs", 0), ("output_dir", 3), ("portfolio", ["default"]),
])
def test_each_bad_parameter_is_refused_at_fit_by_name_before_any_work(name, value):
    X, y = _frame()
    start = time.monotonic()
    with pytest.raises(ValueError, match=f"^{name} must be .*; got {re.escape(repr(value))}"):
        AutoMLClassifier(**{**FAST, name: value}).fit(X, y)
    assert time.monotonic() - start < 2


def test_strict_mode_raises_a_programming_error_that_a_fit_would_skip(monkeypatch):
    """Outside strict mode a model raising TypeError is skipped like any failing model; in strict
    mode (the suite's setting) the error reaches the caller."""
    from automl.failures import StrictModeError
    from automl.models.sklearn_models import LinearModel

    def broken(self, *args, **kwargs):
        raise TypeError("a bug in new code")

    monkeypatch.setattr(LinearModel, "fit", broken)
    X, y = _frame()
    with pytest.raises(StrictModeError, match="a bug in new code"):
        AutoMLClassifier(**{**FAST, "models": ["lightgbm", "linear"]}).fit(X, y)
    monkeypatch.setenv("AUTOML_STRICT", "0")
    model = AutoMLClassifier(**{**FAST, "models": ["lightgbm", "linear"]}).fit(X, y)
    assert {r.family for r in model.records_} == {"lightgbm"}

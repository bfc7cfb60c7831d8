"""What a user asks of a fitted model: which columns matter, how sure a prediction is, how good
it is on held-out rows."""
import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm
from sklearn.exceptions import NotFittedError

from automl import AutoMLClassifier, AutoMLRegressor, load
from automl.conformal import ClassificationConformal, class_scores, group_weights, weighted_quantile

from conftest import FAST


def _heteroscedastic(n, seed=0):
    """y = 2a + noise whose scale grows with |a|: intervals should widen with |a|."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.uniform(-2, 2, n), "b": rng.normal(size=n)})
    y = 2 * X["a"] + rng.normal(size=n) * (0.2 + np.abs(X["a"]))
    return X, y


@pytest.fixture(scope="module")
def regressor():
    X, y = _heteroscedastic(1500)
    return AutoMLRegressor(**FAST, time_limit=30).fit(X, y)


# ---------------------------------------------------------------------------- conformal pieces
def test_the_conformal_quantile_is_the_ceil_n_plus_1_c_th_smallest():
    values = np.arange(1.0, 20.0)  # 19 values
    assert weighted_quantile(values, np.ones(19), 0.9) == 18.0  # ceil(20 x 0.9) = 18
    assert weighted_quantile(values, np.ones(19), 0.96) == np.inf  # ceil(20 x 0.96) = 20 > 19: no finite bound
    # each group counts once: a group of 9 rows weighs as much as a group of 1
    assert group_weights(np.array([0] * 9 + [1]), 10).tolist() == [1 / 9] * 9 + [1.0]


def test_prediction_sets_cover_calibrated_probabilities_at_the_asked_rate():
    rng = np.random.default_rng(0)
    proba = rng.dirichlet(np.ones(4) * 0.7, 6000)
    y = np.array([rng.choice(4, p=p) for p in proba])  # the probabilities are the truth
    conformal = ClassificationConformal().fit(y[:3000], proba[:3000])
    for coverage in (0.8, 0.9):
        sets = conformal.sets(proba[3000:], coverage)
        assert abs(sets[np.arange(3000), y[3000:]].mean() - coverage) < 0.03
        assert sets.any(axis=1).all()
    # a class's score: the classes more probable than it, and half its own
    np.testing.assert_allclose(class_scores(np.array([[0.5, 0.3, 0.2]])), [[0.25, 0.65, 0.9]])
    # on a binary table where the top class is right 80% of the time, 90% sets are not all of size 2
    p_top = rng.uniform(0.55, 1.0, 4000)
    binary = np.column_stack([p_top, 1 - p_top])
    truth = np.where(rng.random(4000) < p_top, 0, 1)
    binary_sets = ClassificationConformal().fit(truth[:2000], binary[:2000]).sets(binary[2000:], 0.9)
    assert abs(binary_sets[np.arange(2000), truth[2000:]].mean() - 0.9) < 0.03 and binary_sets.sum(1).mean() < 1.9


# ---------------------------------------------------------------------------- intervals
def test_intervals_of_one_width_cover_too():
    """Without the difficulty model (a fit short of time) the interval is y_hat +- a quantile of |residual|."""
    from automl.conformal import RegressionConformal
    from automl.data.encoder import EncodedTable

    rng = np.random.default_rng(0)
    residuals = rng.normal(scale=1000.0, size=2000)  # large residuals: no floor may rescale them
    table = EncodedTable(np.zeros((2000, 1), np.float32), np.zeros((2000, 0), np.int32), ["a"], [], [])
    flat = RegressionConformal().fit(table, residuals, np.zeros(2000), np.arange(2000) % 4, adaptive=False)
    interval = flat.interval(np.zeros(2000), table, 0.9)
    assert np.allclose(interval[:, 1], np.quantile(np.abs(residuals), 0.9), rtol=0.02)


def test_intervals_cover_new_rows_and_widen_where_the_noise_does(regressor, tmp_path):
    X, y = _heteroscedastic(4000, seed=1)
    interval = regressor.predict_interval(X, coverage=0.9)
    inside = (interval[:, 0] <= y) & (y <= interval[:, 1])
    assert 0.86 <= inside.mean() <= 0.94
    width = interval[:, 1] - interval[:, 0]
    assert width[np.abs(X["a"]) > 1.5].mean() > 2 * width[np.abs(X["a"]) < 0.5].mean()
    quantiles = regressor.predict_quantiles(X, [0.05, 0.5, 0.95])
    assert (np.diff(quantiles, axis=1) >= 0).all() and 0.85 <= np.mean((quantiles[:, 0] <= y) & (y <= quantiles[:, 2]))
    regressor.save(tmp_path / "m")
    np.testing.assert_array_equal(load(tmp_path / "m").predict_interval(X, coverage=0.9), interval)
    with pytest.raises(ValueError, match="b"):  # the fit's columns, named
        regressor.predict_interval(X.drop(columns="b"))
    with pytest.raises(ValueError, match="predict_set applies to classification"):
        regressor.predict_set(X)


def test_evaluate_equals_scikit_learn_on_the_same_predictions(regressor):
    X, y = _heteroscedastic(500, seed=2)
    results = regressor.evaluate(X, y)
    pred = regressor.predict(X)
    assert results["rmse"] == pytest.approx(np.sqrt(skm.mean_squared_error(y, pred)), abs=1e-12)
    assert results["mae"] == pytest.approx(skm.mean_absolute_error(y, pred), abs=1e-12)
    assert results["r2"] == pytest.approx(skm.r2_score(y, pred), abs=1e-12)
    assert results["mean_absolute_percentage_error"] == pytest.approx(
        skm.mean_absolute_percentage_error(y, pred), abs=1e-12)
    interval = regressor.predict_interval(X, 0.9)
    assert results["interval_coverage"] == pytest.approx(np.mean((interval[:, 0] <= y) & (y <= interval[:, 1])))


def test_classifier_sets_evaluate_and_errors(mixed_classification):
    X, y = mixed_classification
    model = AutoMLClassifier(**FAST).fit(X[:200], y[:200])
    sets = model.predict_set(X[200:], coverage=0.9)
    assert sets.shape == (100, 2) and sets.any(axis=1).all()
    results = model.evaluate(X[200:], y[200:])
    proba, labels = model.predict_proba(X[200:]), model.predict(X[200:])
    truth = (y[200:] == model.classes_[1]).to_numpy()
    assert results["roc_auc"] == pytest.approx(skm.roc_auc_score(truth, proba[:, 1]), abs=1e-12)
    assert results["accuracy"] == pytest.approx(skm.accuracy_score(y[200:], labels), abs=1e-12)
    assert results["f1"] == pytest.approx(skm.f1_score(truth, labels == model.classes_[1]), abs=1e-12)
    assert results["log_loss"] == pytest.approx(skm.log_loss(truth, proba[:, 1]), abs=1e-9)
    for coverage in (0, 1, 1.5, "0.9"):
        with pytest.raises(ValueError, match="coverage must be"):
            model.predict_set(X, coverage=coverage)
    with pytest.raises(ValueError, match="predict_interval applies to regression"):
        model.predict_interval(X)
    with pytest.raises(ValueError, match="labels the fit never saw"):
        model.evaluate(X[:3], ["maybe"] * 3)
    with pytest.raises(NotFittedError):
        AutoMLClassifier().predict_set(X)


# ---------------------------------------------------------------------------- importance
def test_importance_ranks_the_signal_columns_first():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame(rng.normal(size=(n, 20)), columns=[f"x{j}" for j in range(20)])
    y = 2 * X["x0"] + X["x1"] - 1.5 * X["x2"] + rng.normal(scale=0.5, size=n)
    model = AutoMLRegressor(**FAST).fit(X, y)
    honest = model.feature_importance(n_repeats=5)
    assert set(honest.index[:3]) == {"x0", "x1", "x2"} and (honest["p_value"][:3] < 0.01).all()
    assert (honest["p_value"][3:] > 0.05).mean() >= 0.9 and (honest["n"] == 5).all()
    held_out = model.feature_importance(X[:300], y[:300], n_repeats=3)
    assert set(held_out.index[:3]) == {"x0", "x1", "x2"}


def test_importance_permutes_a_date_as_one_column_and_stops_at_its_time_limit():
    rng = np.random.default_rng(0)
    n = 400
    when = pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    X = pd.DataFrame({"when": when.astype(str), "noise": rng.normal(size=n)})
    y = (when.dayofyear > 180).astype(int)
    model = AutoMLClassifier(**FAST).fit(X, y)
    table = model.feature_importance(n_repeats=3)
    assert list(table.index) == ["when", "noise"] and table.loc["when", "importance"] > 0.1
    assert (model.feature_importance(n_repeats=50, time_limit=0.0)["n"] == 0).all()


def test_cli_predicts_intervals_and_sets_evaluates_and_ranks_columns(tmp_path, capsys):
    from automl.shell.cli import main

    X, y = _heteroscedastic(600)
    X.assign(target=y).to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "model"
    assert main(["fit", str(tmp_path / "train.csv"), "--target", "target", "--models", "linear,lightgbm",
                 "--time-limit", "20", "--out", str(out), "--quiet"]) == 0
    assert main(["predict", str(out), str(tmp_path / "train.csv"), "--interval", "0.9",
                 "--out", str(tmp_path / "p.csv")]) == 0
    predictions = pd.read_csv(tmp_path / "p.csv")
    assert list(predictions.columns) == ["target", "target_lower", "target_upper"]
    assert (predictions["target_lower"] <= predictions["target"]).all()
    assert main(["predict", str(out), str(tmp_path / "train.csv"), "--set", "0.9"]) == 1  # a regression model
    capsys.readouterr()
    assert main(["evaluate", str(out), str(tmp_path / "train.csv")]) == 0
    assert "interval_coverage" in capsys.readouterr().out
    assert main(["importance", str(out), "--repeats", "2"]) == 0
    assert capsys.readouterr().out.splitlines()[2].startswith("a ")  # the first column ranked: a

    labels = np.where(y > 0, "up", "down")
    X.assign(target=labels).to_csv(tmp_path / "classes.csv", index=False)
    assert main(["fit", str(tmp_path / "classes.csv"), "--target", "target", "--models", "linear",
                 "--ensemble", "best", "--out", str(tmp_path / "c"), "--quiet"]) == 0
    assert main(["predict", str(tmp_path / "c"), str(tmp_path / "classes.csv"), "--set", "0.95",
                 "--out", str(tmp_path / "s.csv")]) == 0
    sets = pd.read_csv(tmp_path / "s.csv")["target_set"]
    assert set(sets) <= {"down", "up", "down|up"}

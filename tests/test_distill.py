"""One fast model from the ensemble: the distilled student and the early-exit cascade."""
from __future__ import annotations

import logging
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.metrics import roc_auc_score

from automl import AutoMLClassifier, AutoMLRegressor, load
from automl.cascade import Cascade, choose_cascade
from automl.data.encoder import EncodedTable
from automl.distill import SoftTargets, augmented
from automl.metrics import get_metric
from automl.shell.cli import main

from conftest import FAST


def _table(n: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "c": rng.choice(list("pqr"), n)})
    logit = 2 * X["a"] - X["b"] + (X["c"] == "q")
    return X, (logit + rng.logistic(size=n) > 0).astype(int).to_numpy()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    X, y = _table(700)
    folder = tmp_path_factory.mktemp("distill") / "model"
    model = AutoMLClassifier(**{**FAST, "models": ["linear", "knn"]}, output_dir=str(folder)).fit(X[:500], y[:500])
    return model, X[500:], y[500:], folder


def test_soft_targets_weighted_log_loss_is_the_cross_entropy_against_the_teacher():
    rng = np.random.default_rng(0)
    teacher = rng.dirichlet([0.3, 0.3, 0.3, 0.3], size=50)
    X = EncodedTable(rng.normal(size=(50, 2)).astype(np.float32), np.zeros((50, 0), np.int32), ["x", "z"], [], [])
    weight = rng.uniform(0.5, 2, size=50)
    soft = SoftTargets(X, "multiclass", [teacher], weight, np.arange(50)).of(teacher)
    student = rng.dirichlet([1, 1, 1, 1], size=50)  # any model's probabilities of the 50 rows
    rows = SoftTargets(X, "multiclass", [teacher], weight, np.arange(50)).rows
    weighted = np.sum(soft.sample_weight * -np.log(student[rows, soft.y]))
    kept = np.where(teacher >= np.minimum(0.01, teacher.max(axis=1, keepdims=True)), teacher, 0)
    kept /= kept.sum(axis=1, keepdims=True)
    cross_entropy = np.sum(weight * np.sum(kept * -np.log(student), axis=1))
    assert weighted == pytest.approx(cross_entropy, rel=1e-9)
    assert len(rows) < 4 * 50  # classes under 1% left out
    assert (soft.groups == rows).all()  # a row's copies share its group: early stopping never splits them


def test_augmented_rows_resample_columns_from_the_training_rows():
    rng = np.random.default_rng(0)
    X = EncodedTable(rng.normal(size=(200, 3)).astype(np.float32), rng.integers(0, 4, (200, 1)).astype(np.int32),
                     ["a", "b", "c"], ["d"], [5])
    extra, source = augmented(X, 300, seed=0)
    assert len(extra) == 300 and source.min() >= 0 and source.max() < 200
    same = extra.numeric == X.numeric[source]
    assert 0.35 < 1 - same.mean() < 0.65  # about half the values come from other rows
    assert np.isin(extra.numeric[:, 0], X.numeric[:, 0]).all()  # ...of the same column


def test_a_student_matches_a_known_teacher(fitted, no_pickle, tmp_path):
    model, X_test, y_test, _ = fitted
    teacher = model.predict_proba(X_test)[:, 1]
    model.distill(time_limit=60, student="lightgbm")
    assert model.student_["name"] == "distilled_lightgbm" and model.student_["refit"]
    student = model.set_params(predictor="distilled").predict_proba(X_test)[:, 1]
    model.set_params(predictor="ensemble")
    assert np.abs(student - teacher).mean() < 0.06
    assert roc_auc_score(y_test, student) > roc_auc_score(y_test, teacher) - 0.03
    board = model.leaderboard()
    assert {"(ensemble)", "distilled_lightgbm"} <= set(board["config"])
    assert abs(model.student_["oof_score"] - model.ensemble_score_) < 0.03
    model.save(tmp_path / "saved")
    loaded = load(tmp_path / "saved").set_params(predictor="distilled")
    assert np.allclose(loaded.predict_proba(X_test)[:, 1], student, atol=1e-6)


def test_the_students_oof_score_is_honest_on_noise_labels():
    """Each student copy learns a teacher that never saw its fold: on labels that are noise, a
    student taught by memorizing members (kNN) still scores chance out of fold."""
    rng = np.random.default_rng(3)
    X = pd.DataFrame(rng.normal(size=(400, 3)), columns=list("abc"))
    y = rng.integers(0, 2, 400)
    model = AutoMLClassifier(models=["knn"], n_folds=4, verbosity=0, ensemble="best", refit=False).fit(X, y)
    model.distill(student="lightgbm")
    assert abs(model.student_["oof_score"] - 0.5) < 0.08


def test_a_distillation_whose_teaching_would_outlast_its_budget_stops_early(fitted, monkeypatch):
    import automl.estimator as estimator

    model, X_test, _, _ = fitted
    before = model.student_
    combine = model._combine

    def slow(features, fold_of=None, fold_copies=False):  # a teacher that takes 1 s a pass
        time.sleep(1.0)
        return combine(features, fold_of, fold_copies)

    monkeypatch.setattr(model, "_combine", slow)
    start = time.perf_counter()
    model.distill(time_limit=4)  # 3 folds x 1 s of teaching > half of the 3 s left
    assert time.perf_counter() - start < 2.5 and model.student_ == before


def test_regression_students_and_what_cannot_be_asked(regression_data):
    X, y = regression_data
    model = AutoMLRegressor(**FAST)
    with pytest.raises(NotFittedError):
        model.distill()
    model.fit(X, y)
    with pytest.raises(ValueError, match="distill\\(\\) first"):
        model.set_params(predictor="distilled").predict(X)
    with pytest.raises(ValueError, match="regression use predictor='distilled'"):
        model.set_params(predictor="cascade").predict(X)
    with pytest.raises(ValueError, match="student must be one of"):
        model.distill(student="knn")
    model.set_params(predictor="ensemble").distill(time_limit=30, augment=True)
    assert model.student_["augmented_rows"] == len(X)
    values = model.set_params(predictor="distilled").predict(X)
    assert np.corrcoef(values, y)[0, 1] > 0.9
    with pytest.raises(ValueError, match="predictor must be one of"):
        model.set_params(predictor="fastest").predict(X)


def test_a_failing_student_leaves_the_estimator_predicting_as_before(fitted, monkeypatch, caplog):
    import automl.estimator as estimator

    model, X_test, _, _ = fitted
    before = dict(model.student_) if model.student_ else None
    expected = model.set_params(predictor="ensemble").predict_proba(X_test)

    def fail(*args, **kwargs):
        raise RuntimeError("the student's library broke")

    monkeypatch.setattr(estimator, "distill_student", fail)
    with caplog.at_level(logging.WARNING, logger="automl"):
        model.set_params(verbosity=1).distill(time_limit=5)
    model.set_params(verbosity=0)
    assert "the student's library broke" in caplog.text and model.student_ == before
    assert np.array_equal(model.predict_proba(X_test), expected)


def test_the_cascade_keeps_its_tolerance_and_exits_where_the_first_model_is_sure():
    rng = np.random.default_rng(0)
    n = 2000
    y = rng.integers(0, 2, n)
    as_proba = lambda p: np.column_stack([1 - p, p])  # noqa: E731
    ensemble = as_proba(np.clip(np.where(y == 1, 0.8, 0.2) + rng.normal(0, 0.1, n), 0.01, 0.99))
    # a cheap model as good as the ensemble where it is sure, a coin where it is not
    sure = rng.random(n) < 0.6
    cheap = np.where(sure[:, None], as_proba(np.where(y == 1, 0.97, 0.03)), as_proba(np.full(n, 0.5)))
    metric = get_metric("log_loss", "binary")

    def loss_of(raw, rows):
        return metric.loss(y[rows], raw)

    halves = [np.arange(0, n, 2), np.arange(1, n, 2)]
    cascade = choose_cascade(loss_of, ensemble, 10.0, {"cheap": (cheap, 1.0)}, halves, tolerance=0.001)
    assert cascade is not None and cascade.first == "cheap"
    assert cascade.oof_loss <= loss_of(ensemble, np.arange(n)) * 1.001
    for rows in halves:  # the tolerance holds on each half too
        exits = cascade.exits(cheap[rows])
        assert loss_of(np.where(exits[:, None], cheap[rows], ensemble[rows]), rows) <= \
            loss_of(ensemble[rows], rows) * 1.001
    assert 0.5 < cascade.exit_share <= 0.61
    assert cascade.exits(cheap).mean() == pytest.approx(cascade.exit_share)
    assert Cascade.from_state(cascade.get_state()) == cascade
    useless = as_proba(np.where(rng.random(n) < 0.5, 0.99, 0.01))  # sure of itself, right half the time
    assert choose_cascade(loss_of, ensemble, 10.0, {"useless": (useless, 1.0)}, halves) is None


def test_predicting_with_the_cascade_asks_the_ensemble_only_for_unsure_rows(fitted, monkeypatch):
    model, X_test, _, _ = fitted
    first = model.leaderboard()["config"].iloc[-1]
    model.cascade_ = Cascade(first, threshold=0.8, exit_share=0.5, oof_loss=0.0, ensemble_loss=0.0,
                             expected_seconds_per_1k=1.0)
    stage = model._bag(first).predict(model._encode(X_test), fold_copies=True)  # as the threshold was chosen
    asked = []
    combine = model._combine
    monkeypatch.setattr(model, "_combine", lambda features, *a, **k: asked.append(len(features)) or
                        combine(features, *a, **k))
    proba = model.set_params(predictor="cascade").predict_proba(X_test)
    sure = stage.max(axis=1) >= 0.8
    assert asked == ([int((~sure).sum())] if (~sure).any() else [])
    assert np.allclose(proba[sure], model._probabilities(stage[sure]))
    model.set_params(predictor="ensemble")


def test_the_command_line_distills_and_predicts_with_the_student(tmp_path):
    X, y = _table(300, seed=1)
    frame = X.assign(label=np.where(y == 1, "yes", "no"))
    frame.iloc[:240].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[240:].drop(columns="label").to_csv(tmp_path / "test.csv", index=False)
    model = tmp_path / "model"
    assert main(["fit", str(tmp_path / "train.csv"), "--target", "label", "--out", str(model),
                 "--models", "lightgbm,linear", "--time-limit", "15", "--quiet"]) == 0
    assert main(["distill", str(model), "--time-limit", "20", "--quiet"]) == 0
    assert load(model).student_["name"] == "distilled_catboost"  # the default student
    out = tmp_path / "pred.csv"
    assert main(["predict", str(model), str(tmp_path / "test.csv"), "--out", str(out), "--predictor", "distilled"]) == 0
    assert set(pd.read_csv(out)["label"]) <= {"yes", "no"} and len(pd.read_csv(out)) == 60
    assert main(["distill", str(tmp_path / "nowhere")]) == 1

"""A real user's table and objective: sample weights, groups, any metric, a tuned decision."""
import json
import pickle

import numpy as np
import pandas as pd
import pytest
from scipy.special import softmax
from sklearn import metrics as skm

from automl import AutoMLClassifier, AutoMLRegressor, load
from automl.decision import DecisionRule, tune_decision
from automl.ensemble import search as search_module
from automl.ensemble.mixture_loss import MixtureLoss
from automl.folds import FoldPlan, holdout_split, inner_split
from automl.metrics import get_metric
from automl.models import executor
from automl.models.base import TaskInfo
from automl.models.registry import get_family
from automl.data.encoder import EncodedTable

from conftest import FAST


def _grouped_table(n=400, n_groups=40, seed=0):
    """Rows of one group share a group effect and a code that identifies the group (unrelated to the
    effect): a model that has seen the group learns its effect from the code, one that has not cannot."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n)
    effect = rng.normal(scale=2.0, size=n_groups)[groups]
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n), "member": rng.normal(size=n_groups)[groups]})
    y = X["a"] + effect + rng.normal(scale=0.3, size=n)
    return X, y, groups


# ---------------------------------------------------------------------------- groups
def _one_side(groups_a, groups_b):
    return np.intersect1d(groups_a, groups_b).size == 0


@pytest.mark.parametrize("task", ["binary", "regression"])
def test_grouped_fold_plan_holds_out_whole_groups_and_is_seeded(task):
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 30, 500)
    y = (rng.random(500) < 0.3).astype(int) if task == "binary" else rng.normal(size=500)
    plan = FoldPlan.make(y, 8, task, seed=1, groups=groups)
    assert plan.n_folds == 8
    for train, held in plan:
        assert _one_side(groups[train], groups[held])
    assert np.array_equal(plan.fold_of, FoldPlan.make(y, 8, task, seed=1, groups=groups).fold_of)
    # fewer groups than folds: one fold per group; one group: a clear error
    assert FoldPlan.make(y[:50], 8, task, seed=0, groups=np.arange(50) % 3).n_folds == 3
    with pytest.raises(ValueError, match="one group"):
        FoldPlan.make(y, 8, task, seed=0, groups=np.zeros(500, dtype=int))


def test_inner_and_holdout_splits_keep_groups_on_one_side():
    rng = np.random.default_rng(0)
    groups = rng.integers(0, 25, 300)
    y = (rng.random(300) < 0.5).astype(int)
    fit_rows, val_rows = inner_split(y, "binary", seed=0, groups=groups)
    assert _one_side(groups[fit_rows], groups[val_rows]) and len(fit_rows) + len(val_rows) == 300
    assert 0 < len(val_rows) < 100
    kept, held = holdout_split(y, "binary", 0, 45, groups)
    assert _one_side(groups[kept], groups[held])


def test_every_split_a_grouped_fit_makes_keeps_each_group_on_one_side(monkeypatch):
    """The outer folds, every early-stopping split, the search's guard slice and inner folds."""
    X, y, groups = _grouped_table()
    seen = {"inner": 0, "guard": 0}

    def spied_inner_split(y_part, task, seed, fraction=0.1, groups=None):
        fit_rows, val_rows = inner_split(y_part, task, seed, fraction, groups)
        assert groups is not None and _one_side(groups[fit_rows], groups[val_rows])
        seen["inner"] += 1
        return fit_rows, val_rows

    def spied_holdout(y_all, task, seed, n_held, groups=None):
        kept, held = holdout_split(y_all, task, seed, n_held, groups)
        assert groups is not None and _one_side(groups[kept], groups[held])
        seen["guard"] += 1
        return kept, held

    monkeypatch.setattr(executor, "inner_split", spied_inner_split)
    monkeypatch.setattr(search_module, "holdout_split", spied_holdout)
    original_init = search_module.Search.__init__

    def spied_search(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        for train, held in self.folds:
            assert _one_side(self.data.groups[train], self.data.groups[held])

    monkeypatch.setattr(search_module.Search, "__init__", spied_search)
    model = AutoMLRegressor(**{**FAST, "n_folds": 4}, ensemble="auto").fit(X, y, groups=groups)
    fold_of = model.store_.fold_of
    assert all(len(np.unique(fold_of[groups == g])) == 1 for g in np.unique(groups))
    assert seen["inner"] >= 4 and seen["guard"] == 1


def test_groups_make_the_oof_score_honest():
    """With groups, OOF predictions come from models that never saw the group: a feature that
    identifies the group no longer makes the OOF score look better than a new group's."""
    X, y, groups = _grouped_table(n=600, n_groups=30)
    plain = AutoMLRegressor(**FAST, ensemble="best").fit(X, y)
    grouped = AutoMLRegressor(**FAST, ensemble="best").fit(X, y, groups=groups)
    assert grouped.ensemble_score_ > 1.2 * plain.ensemble_score_  # RMSE: the ungrouped one is optimistic


def test_groups_and_weights_can_name_columns_and_are_left_out_of_the_features():
    X, y, groups = _grouped_table()
    frame = X.assign(patient=groups, w=np.linspace(0.5, 2, len(X)), target=y)
    model = AutoMLRegressor(**FAST, ensemble="best").fit(frame, "target", sample_weight="w", groups="patient")
    assert list(model.feature_names_in_) == ["a", "b", "member"]
    assert model.store_.groups is not None and model.store_.sample_weight is not None


# ---------------------------------------------------------------------------- weights
@pytest.mark.parametrize("family", ["lightgbm", "xgboost", "catboost", "random_forest", "extra_trees", "linear",
                                    "tabm"])
def test_each_family_that_takes_weights_learns_from_them(family):
    """Two interleaved, indistinguishable halves with opposite labels: weighting one half 9 to 1
    must move the predicted probability towards it."""
    rng = np.random.default_rng(0)
    n = 400
    numeric = rng.normal(size=(n, 2)).astype(np.float32)
    table = EncodedTable(numeric, np.zeros((n, 0), dtype=np.int32), ["a", "b"], [], [])
    y = np.arange(n) % 2
    weight = np.where(y == 1, 9.0, 1.0)
    params = {"lightgbm": {"max_rounds": 30}, "xgboost": {"max_rounds": 30}, "catboost": {"max_rounds": 30},
              "random_forest": {"n_estimators": 20, "min_samples_leaf": 20},
              "extra_trees": {"n_estimators": 20, "min_samples_leaf": 20}, "tabm": {"max_epochs": 3}}
    model = get_family(family)(params.get(family, {}), TaskInfo("binary", 2), seed=0, n_threads=1)
    model.fit(table, y, sample_weight=weight)
    assert model.predict(table)[:, 1].mean() > 0.7


def test_weights_reach_the_oof_scores_and_the_ensemble_score(mixed_classification):
    X, y = mixed_classification
    weight = np.where(y == "yes", 5.0, 1.0)
    model = AutoMLClassifier(**FAST, ensemble="ges", metric="accuracy").fit(X, y, sample_weight=weight)
    honest = model.ensemble_.predict_oof(model.store_.oof, model.store_.features)
    expected = skm.accuracy_score(model.store_.y, honest.argmax(axis=1), sample_weight=weight)
    assert model.ensemble_score_ == pytest.approx(expected)
    unweighted = skm.accuracy_score(model.store_.y, honest.argmax(axis=1))
    assert model.ensemble_score_ != pytest.approx(unweighted)


@pytest.mark.parametrize("bad, message", [
    (np.full(300, np.nan), "missing or infinite"), (-np.ones(300), "negative"), (np.zeros(300), "zero on every row"),
    (np.ones(10), "one value per row"), (["a"] * 300, "numbers"),
])
def test_bad_weights_are_refused_with_the_reason(mixed_classification, bad, message):
    X, y = mixed_classification
    with pytest.raises(ValueError, match=message):
        AutoMLClassifier(**FAST).fit(X, y, sample_weight=bad)


def test_bad_groups_are_refused_with_the_reason(mixed_classification):
    X, y = mixed_classification
    with pytest.raises(ValueError, match="missing values"):
        AutoMLClassifier(**FAST).fit(X, y, groups=[None] * len(X))
    with pytest.raises(ValueError, match="one group"):
        AutoMLClassifier(**FAST).fit(X, y, groups=np.zeros(len(X)))
    with pytest.raises(ValueError, match="column 'nope' not found"):
        AutoMLClassifier(**FAST).fit(X, y, groups="nope")


def test_resume_refuses_a_run_made_with_other_weights(mixed_classification, tmp_path):
    X, y = mixed_classification
    AutoMLClassifier(**FAST, ensemble="best", output_dir=tmp_path).fit(X, y)
    with pytest.raises(ValueError, match="sample weights, groups"):
        AutoMLClassifier(**FAST, ensemble="best", output_dir=tmp_path).fit(X, y, sample_weight=np.ones(len(X)) * 2,
                                                                            resume=True)


# ---------------------------------------------------------------------------- metrics
def _predictions(task, n=300, seed=0):
    rng = np.random.default_rng(seed)
    if task == "regression":
        y = rng.uniform(0.5, 3.0, n)
        return y, (y + rng.normal(scale=0.3, size=n))[:, None]
    k = 2 if task == "binary" else 3
    y = rng.integers(0, k, n)
    p = rng.dirichlet(np.ones(k), n) + np.eye(k)[y] * 0.5
    return y, p / p.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("name, task, reference", [
    ("roc_auc", "binary", lambda y, p, w: skm.roc_auc_score(y, p[:, 1], sample_weight=w)),
    ("log_loss", "multiclass", lambda y, p, w: skm.log_loss(y, p, sample_weight=w)),
    ("accuracy", "multiclass", lambda y, p, w: skm.accuracy_score(y, p.argmax(1), sample_weight=w)),
    ("f1", "binary", lambda y, p, w: skm.f1_score(y, p.argmax(1), sample_weight=w)),
    ("f1_macro", "multiclass", lambda y, p, w: skm.f1_score(y, p.argmax(1), average="macro", sample_weight=w)),
    ("average_precision", "binary", lambda y, p, w: skm.average_precision_score(y, p[:, 1], sample_weight=w)),
    ("matthews_corrcoef", "binary", lambda y, p, w: skm.matthews_corrcoef(y, p.argmax(1), sample_weight=w)),
    ("qwk", "multiclass", lambda y, p, w: skm.cohen_kappa_score(y, p.argmax(1), weights="quadratic",
                                                                sample_weight=w)),
    ("rmse", "regression", lambda y, p, w: np.sqrt(skm.mean_squared_error(y, p[:, 0], sample_weight=w))),
    ("mae", "regression", lambda y, p, w: skm.mean_absolute_error(y, p[:, 0], sample_weight=w)),
    ("neg_mean_absolute_percentage_error", "regression",
     lambda y, p, w: skm.mean_absolute_percentage_error(y, p[:, 0], sample_weight=w)),
    ("rmsle", "regression", lambda y, p, w: np.sqrt(skm.mean_squared_log_error(y, p[:, 0], sample_weight=w))),
    ("pinball:0.9", "regression", lambda y, p, w: skm.mean_pinball_loss(y, p[:, 0], alpha=0.9, sample_weight=w)),
])
def test_weighted_metrics_equal_scikit_learns(name, task, reference):
    y, p = _predictions(task)
    w = np.random.default_rng(1).uniform(0.1, 3.0, len(y))
    metric = get_metric(name, task)
    assert metric.score(y, p, w) == pytest.approx(reference(y, p, w), rel=1e-9)
    assert metric.score(y, p, w) != pytest.approx(metric.score(y, p), rel=1e-9)


@pytest.mark.parametrize("name, task", [("log_loss", "multiclass"), ("rmse", "regression"), ("roc_auc", "binary"),
                                        ("f1", "binary")])
def test_weighted_mixture_losses_equal_the_metric(name, task):
    rng = np.random.default_rng(0)
    y, p = _predictions(task)
    predictions = np.stack([p, np.roll(p, 1, axis=0), p ** 2 / (p ** 2).sum(axis=1, keepdims=True)
                            if task != "regression" else p + 0.2]).astype(np.float32)
    w = rng.uniform(0.1, 3.0, len(y))
    metric = get_metric(name, task)
    expected = [metric.loss(y, predictions[j], w) for j in range(3)]
    # ROC AUC with weights is counted in a 2^14-bin histogram: within the share of pairs in a bin.
    np.testing.assert_allclose(MixtureLoss(metric, predictions, y, w).of_each_model(), expected,
                               rtol=1e-5, atol=2e-3 if name == "roc_auc" else 1e-6)


def test_a_scorer_object_sets_the_direction_and_what_is_read():
    loss_scorer = skm.make_scorer(skm.mean_absolute_error, greater_is_better=False)
    metric = get_metric(loss_scorer, "regression")
    assert not metric.greater_is_better and metric.custom
    y, p = _predictions("regression")
    assert metric.loss(y, p) == pytest.approx(skm.mean_absolute_error(y, p[:, 0]))
    fbeta = get_metric(skm.make_scorer(skm.fbeta_score, beta=2), "binary")
    assert fbeta.greater_is_better and fbeta.reads_labels


def test_a_fit_with_a_scorer_object_optimizes_it_and_its_folder_loads(regression_data, tmp_path):
    X, y = regression_data
    scorer = skm.make_scorer(skm.median_absolute_error, greater_is_better=False)
    model = AutoMLRegressor(**FAST, ensemble="ges", metric=scorer).fit(X, y)
    board = model.leaderboard()
    assert "oof_median_absolute_error" in board and board["oof_median_absolute_error"].is_monotonic_increasing
    model.save(tmp_path / "m")
    loaded = load(tmp_path / "m")
    np.testing.assert_allclose(loaded.predict(X), model.predict(X))
    assert loaded.leaderboard()["oof_median_absolute_error"].is_monotonic_increasing


@pytest.mark.parametrize("metric, task, message", [
    ("f1", "multiclass", "cannot score a multiclass task"), ("rmse", "binary", "does not apply"),
    ("roc_auc", "regression", "does not apply"), ("pinball:2", "regression", "quantile"),
])
def test_a_metric_that_does_not_apply_is_refused(metric, task, message):
    with pytest.raises(ValueError, match=message):
        get_metric(metric, task)


def test_rmsle_refuses_a_negative_target_before_training(regression_data):
    X, y = regression_data
    with pytest.raises(ValueError, match="cannot score this target"):
        AutoMLRegressor(**FAST, metric="rmsle").fit(X, y - 100)


# ---------------------------------------------------------------------------- decisions
def test_a_tuned_threshold_beats_argmax_on_an_imbalanced_table():
    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.random(n) < 0.06).astype(int)
    score = rng.normal(size=n) + 1.5 * y  # positives rarely pass 0.5
    p1 = 1 / (1 + np.exp(-(score - 3.0)))
    proba = np.column_stack([1 - p1, p1])
    rule, report = tune_decision(get_metric("f1", "binary"), y, proba)
    assert rule.kind == "threshold" and rule.values[0] < 0.5
    assert report["tuned_score"] > report["argmax_score"] + 0.1 and report["win_probability"] > 0.5
    # a probability metric has no decision to tune
    assert tune_decision(get_metric("roc_auc", "binary"), y, proba) == (DecisionRule(), {})


def _imbalanced_multiclass(n=3000, seed=0):
    """Three ordered classes, the last rare; probabilities honest but overconfident in the majority."""
    rng = np.random.default_rng(seed)
    y = rng.choice(3, n, p=[0.6, 0.32, 0.08])
    logits = rng.normal(size=(n, 3)) + 1.2 * np.eye(3)[y] + np.array([1.0, 0.0, -1.0])
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba


def test_class_weights_beat_argmax_for_balanced_accuracy():
    y, proba = _imbalanced_multiclass()
    rule, report = tune_decision(get_metric("balanced_accuracy", "multiclass"), y, proba)
    assert rule.kind == "class_weights" and rule.values[2] > rule.values[0]  # the rare class weighs more
    assert report["tuned_score"] > report["argmax_score"] + 0.02


def test_cut_points_beat_argmax_for_quadratic_weighted_kappa():
    y, proba = _imbalanced_multiclass()
    rule, report = tune_decision(get_metric("qwk", "multiclass"), y, proba)
    assert rule.kind == "cut_points" and len(rule.values) == 2 and rule.values[0] < rule.values[1]
    assert report["tuned_score"] > report["argmax_score"]
    assert DecisionRule.from_state(rule.get_state()) == rule


def test_predict_applies_the_tuned_threshold_and_keeps_it_in_the_folder(tmp_path):
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (X["a"] + rng.normal(scale=1.0, size=n) > 2.2).astype(int)  # ~6% positives
    model = AutoMLClassifier(**FAST, ensemble="ges", metric="f1").fit(X, y)
    assert model.decision_threshold_ is not None and model.decision_threshold_ < 0.5
    proba = model.predict_proba(X)
    np.testing.assert_array_equal(model.predict(X), (proba[:, 1] >= model.decision_threshold_).astype(int))
    assert skm.f1_score(y, model.predict(X)) > skm.f1_score(y, proba.argmax(axis=1))
    model.save(tmp_path / "m")
    assert load(tmp_path / "m").decision_threshold_ == model.decision_threshold_
    copy = pickle.loads(pickle.dumps(model))  # joblib and multiprocessing users pickle estimators
    np.testing.assert_array_equal(copy.predict(X), model.predict(X))
    model.set_decision_threshold(None)
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    with pytest.raises(ValueError, match="probability"):
        model.set_decision_threshold(1.5)


def test_cli_takes_weight_and_group_columns(tmp_path):
    from automl.shell.cli import main

    X, y, groups = _grouped_table()
    frame = X.assign(patient=groups, w=np.linspace(0.5, 2, len(X)), target=y)
    frame.to_csv(tmp_path / "train.csv", index=False)
    out = tmp_path / "model"
    assert main(["fit", str(tmp_path / "train.csv"), "--target", "target", "--weight-column", "w",
                 "--group-column", "patient", "--models", "linear", "--ensemble", "best", "--out", str(out),
                 "--quiet"]) == 0
    assert json.loads((out / "columns.json").read_text())["group_column"] == "patient"
    assert main(["predict", str(out), str(tmp_path / "train.csv"), "--out", str(tmp_path / "p.csv")]) == 0
    assert len(pd.read_csv(tmp_path / "p.csv")) == len(frame)


# ---------------------------------------------------------------------------- calibration
def test_temperature_scaling_recovers_an_overconfident_ensembles_temperature():
    from automl.calibration import tune_calibration

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 3000)
    logits = rng.normal(size=(3000, 3)) + np.eye(3)[y]
    overconfident = np.exp(3 * logits) / np.exp(3 * logits).sum(axis=1, keepdims=True)
    calibration, report = tune_calibration(get_metric("log_loss", "multiclass"), y, overconfident)
    assert calibration.kind == "temperature" and calibration.values[0] == pytest.approx(3.0, rel=0.1)
    assert report["calibrated_score"] < report["raw_score"] and report["calibrated_ece"] < report["raw_ece"] / 2
    # ROC AUC does not score calibration: nothing to fit
    assert tune_calibration(get_metric("roc_auc", "multiclass"), y, overconfident)[1] == {}


def test_platt_scaling_improves_a_binary_log_loss():
    from automl.calibration import tune_calibration

    rng = np.random.default_rng(1)
    y = (rng.random(3000) < 0.3).astype(int)
    positive = 1 / (1 + np.exp(-(2.5 * (rng.normal(size=3000) + y) - 1)))
    proba = np.column_stack([1 - positive, positive])
    calibration, report = tune_calibration(get_metric("log_loss", "binary"), y, proba)
    assert calibration.kind == "platt" and report["calibrated_score"] < report["raw_score"] - 0.05
    np.testing.assert_allclose(calibration.apply(proba).sum(axis=1), 1.0)


def test_each_member_is_calibrated_out_of_fold_before_the_search():
    from automl.calibration import calibrate_member

    rng = np.random.default_rng(2)
    y = rng.integers(0, 3, 3000)
    logits = rng.normal(size=(3000, 3)) + np.eye(3)[y]  # the class probabilities are softmax(logits)
    underconfident = softmax(logits / 3, axis=1).astype(np.float32)
    fold_of = FoldPlan.make(y, 8, "multiclass", seed=0).fold_of
    metric = get_metric("log_loss", "multiclass")
    calibration, oof = calibrate_member(metric, y, underconfident, fold_of)
    assert calibration.kind == "temperature" and calibration.values[0] == pytest.approx(1 / 3, rel=0.15)
    assert metric.loss(y, oof) < metric.loss(y, underconfident) - 0.05
    # Out of fold: a row's calibrated probabilities come from a map fitted on the other folds'
    # rows (whole folds of the plan), so relabelling one fold's rows does not move them.
    held = fold_of * 5 // 8 == 0
    relabelled = np.where(held, underconfident.argmax(axis=1), y)
    _, oof_relabelled = calibrate_member(metric, relabelled, underconfident, fold_of)
    np.testing.assert_array_equal(oof_relabelled[held], oof[held])
    assert not np.allclose(oof_relabelled[~held], oof[~held])
    # A small correction (0.8% of its loss here) is left out: it does not carry over from one fold
    # copy's OOF predictions to the mean of the copies that predicts (MEMBER_MIN_GAIN)
    slightly = softmax(logits / 1.3, axis=1).astype(np.float32)
    left, kept_raw = calibrate_member(metric, y, slightly, fold_of)
    assert left.kind == "none" and kept_raw is slightly
    # ROC AUC does not score calibration: the member is left as it is
    none, unchanged = calibrate_member(get_metric("roc_auc", "multiclass"), y, underconfident, fold_of)
    assert none.kind == "none" and unchanged is underconfident


def test_a_members_map_applies_to_what_its_bag_predicts_and_its_folder_keeps_it(mixed_classification, tmp_path):
    from automl.calibration import Calibration
    from automl.models.bagging import BaggedModel

    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, metric="log_loss").fit(X, y)
    name = model.leaderboard()["config"].iloc[0]
    bag, features = model.models_[name], model.encoder_.transform(X)
    bag.calibration_ = Calibration()
    raw = bag.predict(features).astype(np.float64)
    bag.calibration_ = Calibration("platt", (0.5, 0.2))
    expected = Calibration("platt", (0.5, 0.2)).apply(raw / raw.sum(axis=1, keepdims=True))
    np.testing.assert_allclose(bag.predict(features), expected, atol=1e-6)
    assert not np.allclose(bag.predict(features), raw, atol=1e-3)
    bag.save(tmp_path / "bag")
    assert BaggedModel.load(tmp_path / "bag").calibration_ == bag.calibration_


def test_expected_calibration_error_by_hand():
    from automl.calibration import expected_calibration_error

    y = np.array([0, 0, 1, 1])
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.6, 0.4], [0.3, 0.7]])
    # bin of 0.9: 2 rows, both right (|1 - 0.9|); bin of 0.6: wrong (|0 - 0.6|); bin of 0.7: right (|1 - 0.7|)
    assert expected_calibration_error(y, proba) == pytest.approx((2 * 0.1 + 0.6 + 0.3) / 4)


def test_predict_proba_applies_the_calibration_and_the_folder_keeps_it(mixed_classification, tmp_path):
    from automl.calibration import Calibration

    X, y = mixed_classification
    model = AutoMLClassifier(**FAST, ensemble="best", metric="log_loss").fit(X, y)
    assert model.calibration_report_["win_probability"] >= 0  # tried, kept or not on evidence
    model.calibration_ = Calibration()
    raw = model.predict_proba(X)
    model.calibration_ = Calibration("platt", (0.5, 0.2))
    calibrated = model.predict_proba(X)
    np.testing.assert_allclose(calibrated, Calibration("platt", (0.5, 0.2)).apply(raw), rtol=1e-6)
    assert not np.allclose(calibrated, raw)
    model.save(tmp_path / "m")
    np.testing.assert_allclose(load(tmp_path / "m").predict_proba(X), calibrated, rtol=1e-6)


def test_scorers_of_scikit_learn_before_1_4_are_read_by_their_class():
    """Before 1.4 a scorer said what it reads by its class (_ProbaScorer, ...), not _response_method."""
    from automl.compat import scorer_parts

    class _ProbaScorer:  # the shape of scikit-learn 1.3's probability scorers
        _score_func, _sign, _kwargs = staticmethod(skm.log_loss), -1, {}

        def __call__(self, *args):
            raise NotImplementedError

    func, sign, kwargs, responses = scorer_parts(_ProbaScorer())
    assert func is skm.log_loss and sign == -1 and responses == ("predict_proba",)
    with pytest.raises(ValueError, match="make_scorer"):
        scorer_parts(object())

"""The out-of-fold target encoding of high-cardinality columns: no row's encoding uses its own
target (or its group's), the families that are not CatBoost learn from levels they would fold into
"other", and a model folder keeps the encodings without pickle."""
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from test_raw_levels import rare_levels

import automl
from automl import AutoMLRegressor
from automl.data.encoder import TabularEncoder
from automl.data.target_encoding import TargetEncoding
from automl.models.base import TaskInfo
from automl.models.registry import get_family


def _levels(n: int = 300, n_levels: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    raw = rng.integers(-1, n_levels, size=(n, 2)).astype(np.int32)  # -1: missing, a level of its own
    return raw, raw[:, 0] * 0.1 + rng.normal(size=n)


def test_a_rows_cross_fitted_encoding_does_not_use_its_own_target():
    raw, y = _levels()
    crossed = TargetEncoding("regression", seed=0).fit_transform(raw, ["a", "b"], y)
    for row in (0, 17, 123):
        changed = y.copy()
        changed[row] += 100.0
        again = TargetEncoding("regression", seed=0).fit_transform(raw, ["a", "b"], changed)
        np.testing.assert_array_equal(again[row], crossed[row])
        assert not np.array_equal(again, crossed)  # the other rows did use it


def test_with_groups_no_row_is_encoded_from_its_own_groups_targets():
    raw, y = _levels()
    groups = np.arange(len(y)) // 6
    crossed = TargetEncoding("regression", seed=0).fit_transform(raw, ["a", "b"], y, groups)
    group = groups == 7
    changed = np.where(group, y + 100.0, y)
    again = TargetEncoding("regression", seed=0).fit_transform(raw, ["a", "b"], changed, groups)
    np.testing.assert_array_equal(again[group], crossed[group])


def test_encodings_of_new_rows_come_from_all_training_rows_and_survive_saving():
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 80, size=(400, 1)).astype(np.int32)
    y = (raw[:, 0] % 3 + rng.integers(0, 2, 400)) % 3  # three classes, tied to the level
    encoding = TargetEncoding("multiclass", seed=0)
    assert encoding.fit_transform(raw, ["shop"], y).shape == (400, 3)
    assert encoding.names_ == ["shop__target0", "shop__target1", "shop__target2"]
    new = np.array([[5], [999]], dtype=np.int32)  # a training level, one never seen
    encoded = encoding.transform(new)
    np.testing.assert_allclose(encoded[1], np.bincount(y) / len(y), rtol=1e-6)  # unseen: the prior
    level_rows = y[raw[:, 0] == 5]
    assert np.argmax(encoded[0]) == np.argmax(np.bincount(level_rows, minlength=3))
    restored = TargetEncoding.from_state(encoding.get_state())
    np.testing.assert_array_equal(restored.transform(raw), encoding.transform(raw))


def test_rows_of_a_single_class_give_no_columns():
    raw, _ = _levels(100)
    encoding = TargetEncoding("binary", seed=0)
    assert encoding.fit_transform(raw, ["a", "b"], np.ones(100, dtype=int)).shape == (100, 0)
    assert encoding.transform(raw).shape == (100, 0)


@pytest.mark.parametrize("family", ["lightgbm", "linear", "extra_trees"])
def test_families_learn_from_levels_they_would_fold_into_other(family):
    frame, y, test = rare_levels()
    table = TabularEncoder().fit(frame[~test]).transform(frame)
    assert table.cardinalities == [1]  # every level rare: the codes say nothing
    train, held = np.flatnonzero(~test), np.flatnonzero(test)

    def rmse(X) -> float:
        model = get_family(family)({}, TaskInfo("regression", 0), seed=0, n_threads=1)
        model.fit(X.take(train), y[train])
        return float(np.sqrt(np.mean((model.predict(X.take(held))[:, 0] - y[test]) ** 2)))

    with_encoding, folded = rmse(table), rmse(replace(table, raw=None, raw_names=[]))
    assert with_encoding < 0.8 * folded


def test_noise_levels_do_not_make_the_out_of_fold_score_look_better_than_chance():
    """A column of many levels unrelated to the labels: a leaky encoding would let the copies score
    their held-out rows far from chance."""
    rng = np.random.default_rng(0)
    n = 1_200
    frame = pd.DataFrame({"id_like": [f"L{i}" for i in rng.integers(0, 150, n)], "x": rng.normal(size=n)})
    y = rng.integers(0, 2, n)
    model = automl.AutoMLClassifier(models=["lightgbm", "linear"], n_folds=4, time_limit=60, verbosity=0,
                                    random_state=0).fit(frame, y)
    board = model.leaderboard()
    models = board[board["family"].isin(["lightgbm", "linear"])]
    assert model.metric_ == "roc_auc" and set(models["family"]) == {"lightgbm", "linear"}
    assert (abs(models["oof_roc_auc"] - 0.5) < 0.08).all(), models[["config", "oof_roc_auc"]]


def test_the_encodings_travel_with_the_model_folder_without_pickle(tmp_path, no_pickle):
    frame, y, _ = rare_levels(100)
    model = AutoMLRegressor(models=["lightgbm", "linear"], n_folds=2, time_limit=30, verbosity=0,
                            output_dir=str(tmp_path / "run")).fit(frame, y)
    assert "an out-of-fold target encoding for the families" in model.encoder_.treatment()["shop"]
    np.testing.assert_allclose(automl.load(tmp_path / "run").predict(frame), model.predict(frame), rtol=1e-6)
    assert model.feature_importance(n_repeats=2)["importance"]["shop"] > 0


def test_only_families_that_take_the_encoding_get_it():
    frame, y, _ = rare_levels(60)
    table = TabularEncoder().fit(frame).transform(frame)
    for family in ("lightgbm", "catboost"):
        model = get_family(family)({"max_rounds": 20}, TaskInfo("regression", 0), seed=0, n_threads=1).fit(table, y)
        assert (model.target_encoding_ is not None) == get_family(family).target_encoded
    assert not get_family("catboost").target_encoded and not get_family("tabm").target_encoded
    assert get_family("random_forest").target_encoded

"""High-cardinality string columns keep every level (rare ones included) for CatBoost's own
target statistics, beside the folded codes the other families read."""
from dataclasses import replace

import numpy as np
import pandas as pd

import automl
from automl import AutoMLRegressor
from automl.data.encoder import MISSING_CODE, RAW_MIN_LEVELS, TabularEncoder
from automl.models.base import TaskInfo
from automl.models.catboost import CatBoostModel
from automl.store import PredictionStore


def rare_levels(n_levels: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Each of ``n_levels`` levels on three rows, its own effect on the target; the third row of
    each level is the test row, so every level is seen twice in training: rare, folded into
    "other" for every family but CatBoost."""
    rng = np.random.default_rng(seed)
    effect = rng.normal(scale=3.0, size=n_levels)
    level = np.repeat(np.arange(n_levels), 3)
    frame = pd.DataFrame({"shop": [f"shop_{i}" for i in level], "x": rng.normal(size=3 * n_levels)})
    y = effect[level] + frame["x"].to_numpy() + rng.normal(scale=0.5, size=3 * n_levels)
    return frame, y, np.arange(3 * n_levels) % 3 == 2


def test_raw_codes_keep_rare_levels_of_many_level_columns_only():
    n = 400
    frame = pd.DataFrame({"many": [f"v{i % 200}" for i in range(n)],  # 200 levels, 2 rows each
                          "few": [f"f{i % 10}" for i in range(n)],
                          "unique": [f"u{i}" for i in range(n - 1)] + ["u0"]})  # nearly unique: no statistics
    encoder = TabularEncoder().fit(frame)
    table = encoder.transform(frame)
    assert table.raw_names == ["many"] and table.categorical_names == ["many", "few", "unique"]
    assert (table.categorical[:, 0] == table.cardinalities[0] - 1).all()  # folded: every level rare
    assert len(np.unique(table.raw[:, 0])) == 200  # raw: each its own
    new = encoder.transform(pd.DataFrame({"many": ["v7", "never seen", None], "few": ["f1"] * 3, "unique": ["u1"] * 3}))
    assert new.raw[0, 0] == table.raw[7, 0] and new.raw[1, 0] == 200 and new.raw[2, 0] == MISSING_CODE
    assert encoder.column_sources()["many"] == ([], [0], [0])
    assert "all 200 values kept: levels for CatBoost" in encoder.treatment()["many"]
    restored = TabularEncoder.from_state(encoder.get_state())
    np.testing.assert_array_equal(restored.transform(frame).raw, table.raw)
    assert RAW_MIN_LEVELS > 10


def test_catboost_learns_from_levels_every_other_family_sees_as_other():
    frame, y, test = rare_levels()
    table = TabularEncoder().fit(frame[~test]).transform(frame)
    assert table.raw_names == ["shop"] and table.cardinalities == [1]  # every level rare
    info = TaskInfo("regression", 0)

    def rmse(X) -> float:
        model = CatBoostModel({"max_rounds": 300}, info, seed=0, n_threads=1).fit(X.take(np.flatnonzero(~test)),
                                                                                 y[~test])
        return float(np.sqrt(np.mean((model.predict(X.take(np.flatnonzero(test)))[:, 0] - y[test]) ** 2)))

    with_raw, folded = rmse(table), rmse(replace(table, raw=None, raw_names=[]))
    assert with_raw < 0.8 * folded


def test_raw_codes_travel_with_the_run_and_the_model_folder(tmp_path):
    frame, y, _ = rare_levels(100)
    model = AutoMLRegressor(models=["catboost"], n_folds=2, time_limit=30, verbosity=0,
                            output_dir=str(tmp_path / "run")).fit(frame, y)
    store = PredictionStore.load(tmp_path / "run" / "store")
    np.testing.assert_array_equal(store.features.raw, model.store_.features.raw)
    assert store.features.raw_names == ["shop"]
    np.testing.assert_allclose(automl.load(tmp_path / "run").predict(frame), model.predict(frame), rtol=1e-6)
    assert model.feature_importance(n_repeats=2)["importance"]["shop"] > 0

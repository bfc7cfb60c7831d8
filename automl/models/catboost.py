"""CatBoost with its native categorical handling, early-stopped on the inner split."""
from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.encoder import EncodedTable
from ..persistence import Blob
from .boosting import BoostedModel, Rounds

DEFAULTS = {
    "learning_rate": 0.08,
    "depth": 6,
    "l2_leaf_reg": 3.0,
    "max_rounds": 5_000,
    "patience": 50,
}
LOSSES = {"binary": "Logloss", "multiclass": "MultiClass", "regression": "RMSE"}


class CatBoostModel(BoostedModel):
    family = "catboost"
    defaults = DEFAULTS
    target_encoded = False  # its ordered target statistics read the raw levels themselves
    hyperparameters = frozenset(DEFAULTS) | {"grow_policy", "max_ctr_complexity", "one_hot_max_size",
                                             "random_strength", "bagging_temperature", "border_count",
                                             "min_data_in_leaf", "rsm"}
    # 12 dev datasets, fold 0, defaults, no limit: median 52.8 (quartiles 25.8-133.5); CatBoost's
    # symmetric trees keep gaining a little for thousands of rounds.
    learning_mass = 50.0

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        from catboost import CatBoostClassifier, CatBoostRegressor

        params, max_rounds = self._setup(y, y_val, budget)
        estimator = CatBoostClassifier if self.info.is_classification else CatBoostRegressor
        loss = LOSSES[self.info.task]
        # use_best_model shrinks the model to the best validation round when training stops.
        validated = X_val is not None
        self.model_ = estimator(
            **params, iterations=max_rounds, loss_function=loss, random_seed=self.seed,
            thread_count=self.n_threads, use_best_model=validated, allow_writing_files=False, verbose=False,
        )
        self.model_.fit(self._pool(X, y, sample_weight),
                        eval_set=self._pool(X_val, y_val, val_weight) if validated else None,
                        callbacks=[_RoundCallback(self.rounds_, loss)])
        return self

    def _predict(self, X: EncodedTable) -> np.ndarray:
        pool = self._pool(X)
        if self.info.is_classification:
            return self._as_output(self.model_.predict_proba(pool, thread_count=self.n_threads),
                                   seen_classes=self.model_.classes_)
        return self._as_output(self.model_.predict(pool, thread_count=self.n_threads))

    def fitted_state(self) -> dict:
        with tempfile.TemporaryDirectory() as folder:  # CatBoost writes its format to files only
            path = Path(folder) / "model.cbm"
            self.model_.save_model(str(path), format="cbm")
            return {"model": Blob(path.read_bytes(), ".cbm")}

    def restore(self, fitted: dict) -> None:
        from catboost import CatBoostClassifier, CatBoostRegressor

        estimator = CatBoostClassifier if self.info.is_classification else CatBoostRegressor
        self.model_ = estimator(thread_count=self.n_threads).load_model(blob=fitted["model"].data)

    @staticmethod
    def _pool(X: EncodedTable, y: np.ndarray | None = None, weight: np.ndarray | None = None):
        from catboost import Pool

        # One frame built from all columns at once (adding them one by one cost ~1 ms a column).
        columns = {f"n{j}": X.numeric[:, j] for j in range(X.numeric.shape[1])}
        # Category codes (missing: a level of its own); a column with raw codes gives those instead:
        # every training level, rare ones included, for CatBoost's ordered target statistics.
        columns.update({f"c{j}": X.categorical[:, j] for j, name in enumerate(X.categorical_names)
                        if name not in X.raw_names})
        columns.update({f"r{j}": X.raw[:, j] for j in range(len(X.raw_names))})
        frame = pd.DataFrame(columns, index=pd.RangeIndex(len(X)))
        cats = list(range(X.numeric.shape[1], frame.shape[1]))
        return Pool(frame, label=y, weight=weight, cat_features=cats)


class _RoundCallback:
    """CatBoost callback: returning False stops training."""

    def __init__(self, rounds: Rounds, loss: str):
        self.rounds, self.loss = rounds, loss

    def after_iteration(self, info) -> bool:
        # CatBoost counts iterations from 1.
        validation = info.metrics.get("validation")
        return not self.rounds.after(info.iteration - 1, validation[self.loss][-1] if validation else None)

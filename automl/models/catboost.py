"""CatBoost with its native categorical handling, early-stopped on the inner split."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from .base import Model

DEFAULTS = {
    "learning_rate": 0.08,
    "depth": 6,
    "l2_leaf_reg": 3.0,
    "max_rounds": 5_000,
    "patience": 50,
}


class CatBoostModel(Model):
    family = "catboost"
    uses_validation = True

    def fit(self, X, y, X_val=None, y_val=None, budget=None):
        from catboost import CatBoostClassifier, CatBoostRegressor

        params = {**DEFAULTS, **self.params}
        max_rounds, patience = int(params.pop("max_rounds")), int(params.pop("patience"))
        if self.info.is_classification:
            loss = "Logloss" if self.info.task == "binary" else "MultiClass"
            estimator = CatBoostClassifier
        else:
            loss, estimator = "RMSE", CatBoostRegressor
        self.model_ = estimator(
            **params, iterations=max_rounds, loss_function=loss, random_seed=self.seed,
            thread_count=self.n_threads, od_type="Iter", od_wait=patience, use_best_model=True,
            allow_writing_files=False, verbose=False,
        )
        self.model_.fit(self._pool(X, y), eval_set=self._pool(X_val, y_val), callbacks=[_Deadline(budget)])
        return self

    def predict(self, X: EncodedTable) -> np.ndarray:
        pool = self._pool(X)
        if self.info.is_classification:
            return self._as_output(self.model_.predict_proba(pool), seen_classes=self.model_.classes_)
        return self._as_output(self.model_.predict(pool))

    @staticmethod
    def _pool(X: EncodedTable, y: np.ndarray | None = None):
        from catboost import Pool

        frame = pd.DataFrame(X.numeric, columns=[f"n{j}" for j in range(X.numeric.shape[1])])
        for j in range(X.categorical.shape[1]):
            frame[f"c{j}"] = X.categorical[:, j]  # the missing code is a level of its own
        cats = list(range(X.numeric.shape[1], frame.shape[1]))
        return Pool(frame, label=y, cat_features=cats)


class _Deadline:
    """CatBoost callback: returning False stops training (best model so far is kept)."""

    def __init__(self, budget: TimeBudget | None):
        self.budget = budget

    def after_iteration(self, info) -> bool:
        return self.budget is None or not self.budget.expired()

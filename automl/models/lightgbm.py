"""LightGBM on the tree view, early-stopped on the inner validation split."""
from __future__ import annotations

import numpy as np

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..data.views import tree_view
from .base import Model, Patience

DEFAULTS = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambda_l2": 0.0,
    "max_rounds": 10_000,
    "patience": 50,
}


class LightGBMModel(Model):
    family = "lightgbm"
    uses_validation = True

    def fit(self, X, y, X_val=None, y_val=None, budget=None):
        import lightgbm as lgb

        params = {**DEFAULTS, **self.params}
        max_rounds, patience = int(params.pop("max_rounds")), int(params.pop("patience"))
        if self.info.task == "binary":
            params.update(objective="binary")
        elif self.info.task == "multiclass":
            params.update(objective="multiclass", num_class=self.info.n_classes)
        else:
            params.update(objective="regression")
        params.update(seed=self.seed, num_threads=self.n_threads, verbosity=-1,
                      max_cat_to_onehot=8, deterministic=True, force_row_wise=True)
        matrix, cats = tree_view(X)
        train = lgb.Dataset(matrix, y, categorical_feature=cats, free_raw_data=True)
        val_matrix, _ = tree_view(X_val)
        valid = lgb.Dataset(val_matrix, y_val, reference=train, categorical_feature=cats)
        self.booster_ = lgb.train(params, train, num_boost_round=max_rounds, valid_sets=[valid],
                                  callbacks=[_stop_callback(Patience(patience), budget)])
        return self

    def predict(self, X: EncodedTable) -> np.ndarray:
        matrix, _ = tree_view(X)
        return self._as_output(self.booster_.predict(matrix, num_iteration=self.booster_.best_iteration))


def _stop_callback(patience: Patience, budget: TimeBudget | None):
    """Early stopping on the first validation metric, and a hard stop when the budget ends."""
    import lightgbm as lgb

    def callback(env):
        _, _, value, higher_is_better = env.evaluation_result_list[0]
        stop = patience.update(env.iteration, -value if higher_is_better else value)
        if stop or (budget is not None and budget.expired()):
            raise lgb.callback.EarlyStopException(patience.best_iteration, env.evaluation_result_list)

    callback.order = 30
    return callback

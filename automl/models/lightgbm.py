"""LightGBM on the tree view, early-stopped on the inner validation split."""
from __future__ import annotations

import numpy as np

from ..data.encoder import EncodedTable
from ..data.views import tree_view
from ..persistence import Blob
from .boosting import BoostedModel, Rounds

DEFAULTS = {
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 20,
    "feature_fraction": 0.9,
    "lambda_l2": 0.0,
    "max_rounds": 10_000,
    "patience": 50,
}
# The validation metric is the loss the prior is measured in (boosting.prior_loss).
OBJECTIVES = {"binary": ("binary", "binary_logloss"), "multiclass": ("multiclass", "multi_logloss"),
              "regression": ("regression", "rmse")}


class LightGBMModel(BoostedModel):
    family = "lightgbm"
    defaults = DEFAULTS
    hyperparameters = frozenset(DEFAULTS) | {"extra_trees", "lambda_l1", "bagging_fraction", "bagging_freq",
                                             "max_depth", "max_bin", "min_sum_hessian_in_leaf", "cat_smooth",
                                             "cat_l2", "max_cat_threshold", "min_data_per_group"}
    # 12 dev datasets, fold 0, defaults, no limit: median 7.4 (quartiles 4.4-16.3).
    learning_mass = 8.0

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        import lightgbm as lgb

        params, max_rounds = self._setup(y, y_val, budget)
        objective, metric = OBJECTIVES[self.info.task]
        params.update(objective=objective, metric=metric, seed=self.seed, num_threads=self.n_threads,
                      verbosity=-1, max_cat_to_onehot=8, deterministic=True, force_row_wise=True)
        if self.info.task == "multiclass":
            params["num_class"] = self.info.n_classes
        matrix, cats = tree_view(X)
        train = lgb.Dataset(matrix, y, weight=sample_weight, categorical_feature=cats, free_raw_data=True)
        valid = []
        if X_val is not None:
            val_matrix, _ = tree_view(X_val)
            valid = [lgb.Dataset(val_matrix, y_val, weight=val_weight, reference=train, categorical_feature=cats)]
        self.booster_ = lgb.train(params, train, num_boost_round=max_rounds, valid_sets=valid,
                                  callbacks=[_round_callback(self.rounds_)])
        # Predicting and saving use the best iteration (the text model keeps its trees only).
        self.booster_.best_iteration = self.rounds_.best_iteration + 1
        return self

    def _predict(self, X: EncodedTable) -> np.ndarray:
        matrix, _ = tree_view(X)
        return self._as_output(self.booster_.predict(matrix, num_threads=self.n_threads))

    def fitted_state(self) -> dict:
        return {"booster": Blob(self.booster_.model_to_string().encode(), ".txt")}

    def restore(self, fitted: dict) -> None:
        import lightgbm as lgb

        self.booster_ = lgb.Booster(model_str=fitted["booster"].data.decode())


def _round_callback(rounds: Rounds):
    import lightgbm as lgb

    def callback(env):
        value = env.evaluation_result_list[0][2] if env.evaluation_result_list else None
        if rounds.after(env.iteration, value):
            raise lgb.callback.EarlyStopException(rounds.best_iteration, env.evaluation_result_list)

    callback.order = 30
    return callback

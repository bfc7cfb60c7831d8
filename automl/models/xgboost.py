"""XGBoost (hist, native categories) on the tree view, early-stopped on the inner split."""
from __future__ import annotations

import numpy as np

from ..data.encoder import EncodedTable
from ..data.views import tree_view
from ..persistence import Blob
from .boosting import BoostedModel, Rounds

DEFAULTS = {
    "learning_rate": 0.05,
    "max_depth": 6,
    "min_child_weight": 1.0,
    "subsample": 1.0,
    "colsample_bytree": 1.0,
    "reg_lambda": 1.0,
    "max_rounds": 10_000,
    "patience": 50,
}
OBJECTIVES = {"binary": ("binary:logistic", "logloss"), "multiclass": ("multi:softprob", "mlogloss"),
              "regression": ("reg:squarederror", "rmse")}


class XGBoostModel(BoostedModel):
    family = "xgboost"
    supports_gpu = True
    defaults = DEFAULTS
    hyperparameters = frozenset(DEFAULTS) | {"reg_alpha", "gamma", "max_leaves", "grow_policy", "max_bin",
                                             "colsample_bylevel", "colsample_bynode"}
    # 12 dev datasets, fold 0, defaults, no limit: median 14.9 (quartiles 7.9-23.1).
    learning_mass = 15.0

    def _fit(self, X, y, X_val, y_val, budget, sample_weight, val_weight):
        import xgboost as xgb

        params, max_rounds = self._setup(y, y_val, budget)
        objective, metric = OBJECTIVES[self.info.task]
        params.update(objective=objective, eval_metric=metric, tree_method="hist", seed=self.seed,
                      nthread=self.n_threads, max_cat_to_onehot=8, device="cuda" if self.device == "cuda" else "cpu")
        if self.info.task == "multiclass":
            params["num_class"] = self.info.n_classes
        evals = [] if X_val is None else [(self._matrix(X_val, y_val, val_weight), "val")]
        booster = xgb.train(params, self._matrix(X, y, sample_weight), num_boost_round=max_rounds, evals=evals,
                            callbacks=[_round_callback(self.rounds_, metric)], verbose_eval=False)
        self.booster_ = booster[: self.rounds_.best_iteration + 1]  # the trees up to the best round
        return self

    def _predict(self, X: EncodedTable) -> np.ndarray:
        self.booster_.set_param({"nthread": self.n_threads})
        return self._as_output(self.booster_.predict(self._matrix(X, None)))

    def fitted_state(self) -> dict:
        return {"booster": Blob(bytes(self.booster_.save_raw(raw_format="ubj")), ".ubj")}

    def restore(self, fitted: dict) -> None:
        import xgboost as xgb

        self.booster_ = xgb.Booster()
        self.booster_.load_model(bytearray(fitted["booster"].data))

    def _matrix(self, X: EncodedTable, y: np.ndarray | None, weight: np.ndarray | None = None):
        """The rows as a DMatrix, built on this model's threads."""
        import xgboost as xgb

        matrix, cats = tree_view(X)
        categorical = set(cats)
        types = ["c" if j in categorical else "q" for j in range(matrix.shape[1])]
        return xgb.DMatrix(matrix, label=y, weight=weight, feature_types=types, enable_categorical=True, missing=np.nan,
                           nthread=self.n_threads)


def _round_callback(rounds: Rounds, metric: str):
    """Returning True from after_iteration stops boosting (XGBoost keeps the trees built so far)."""
    import xgboost as xgb

    class RoundCallback(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return rounds.after(epoch, evals_log["val"][metric][-1] if evals_log else None)

    return RoundCallback()

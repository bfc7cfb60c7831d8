"""XGBoost (hist, native categories) on the tree view, early-stopped on the inner split."""
from __future__ import annotations

import numpy as np

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..data.views import tree_view
from .base import Model

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


class XGBoostModel(Model):
    family = "xgboost"
    uses_validation = True
    supports_gpu = True

    def fit(self, X, y, X_val=None, y_val=None, budget=None):
        import xgboost as xgb

        params = {**DEFAULTS, **self.params}
        max_rounds, patience = int(params.pop("max_rounds")), int(params.pop("patience"))
        if self.info.task == "binary":
            params.update(objective="binary:logistic", eval_metric="logloss")
        elif self.info.task == "multiclass":
            params.update(objective="multi:softprob", num_class=self.info.n_classes, eval_metric="mlogloss")
        else:
            params.update(objective="reg:squarederror", eval_metric="rmse")
        params.update(tree_method="hist", seed=self.seed, nthread=self.n_threads, max_cat_to_onehot=8,
                      device="cuda" if self.device == "cuda" else "cpu")
        train, valid = self._matrix(X, y), self._matrix(X_val, y_val)
        callbacks = [xgb.callback.EarlyStopping(rounds=patience, save_best=False), _deadline_callback(budget)]
        self.booster_ = xgb.train(params, train, num_boost_round=max_rounds, evals=[(valid, "val")],
                                  callbacks=callbacks, verbose_eval=False)
        return self

    def predict(self, X: EncodedTable) -> np.ndarray:
        best = self.booster_.best_iteration if self.booster_.attr("best_iteration") is not None else None
        limit = (0, best + 1) if best is not None else (0, 0)
        return self._as_output(self.booster_.predict(self._matrix(X), iteration_range=limit))

    @staticmethod
    def _matrix(X: EncodedTable, y: np.ndarray | None = None):
        import xgboost as xgb

        matrix, cats = tree_view(X)
        types = ["c" if j in set(cats) else "q" for j in range(matrix.shape[1])]
        return xgb.DMatrix(matrix, label=y, feature_types=types, enable_categorical=True, missing=np.nan)


def _deadline_callback(budget: TimeBudget | None):
    """Stops boosting when the budget ends (XGBoost keeps the trees built so far)."""
    import xgboost as xgb

    class Deadline(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            return budget is not None and budget.expired()

    return Deadline()

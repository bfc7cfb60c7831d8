"""BaggedModel: one copy of a model per fold of the FoldPlan.

Each copy trains on its fold's training rows and predicts the held-out rows, which gives the
out-of-fold (OOF) predictions of the whole training set. Families that early-stop get an inner
split of the training rows, so no copy ever looks at the rows it predicts out of fold.
"""
from __future__ import annotations

import time

import numpy as np
from threadpoolctl import threadpool_limits

from ..budget import TimeBudget
from ..data.encoder import EncodedTable
from ..validation import FoldPlan, inner_split
from .base import Model, ModelConfig, TaskInfo
from .registry import get_family


# Below this many training cells (rows x features) a model runs on one thread: thread start-up
# and barrier costs dominate small fits, and spinning OpenMP pools slow them 20x on a busy machine.
MIN_CELLS_PER_EXTRA_THREAD = 500_000


# A model whose first folds project past its budget by this factor is abandoned right away,
# rather than after spending the whole budget on folds that would be thrown away.
ABANDON_FACTOR = 1.5


class ModelTimeout(RuntimeError):
    """The budget ran out before every fold was trained."""


class BaggedModel:
    def __init__(self, config: ModelConfig, info: TaskInfo, seed: int, n_threads: int, device: str = "cpu"):
        self.config = config
        self.info = info
        self.seed = seed
        self.n_threads = n_threads
        self.device = device

    def fit(self, X: EncodedTable, y: np.ndarray, plan: FoldPlan, budget: TimeBudget) -> np.ndarray:
        """Trains one copy per fold and returns the OOF predictions, shape (n_rows, n_outputs)."""
        n_threads = max(1, min(self.n_threads, len(y) * X.n_features // MIN_CELLS_PER_EXTRA_THREAD))
        # BLAS and OpenMP pools inside scikit-learn follow the same thread count.
        with threadpool_limits(limits=n_threads):
            return self._fit_folds(X, y, plan, budget, n_threads)

    def _fit_folds(self, X, y, plan, budget, n_threads):
        family = get_family(self.config.family)
        oof = np.zeros((len(y), self.info.n_outputs), dtype=np.float32)
        self.models_: list[Model] = []
        start = time.perf_counter()
        predict_seconds = 0.0
        for k, (train, held_out) in enumerate(plan):
            if budget.expired():
                raise ModelTimeout(f"time ran out after {k} of {plan.n_folds} folds")
            needed = (time.perf_counter() - start) / k * (plan.n_folds - k) if k else 0.0
            if budget.limited and needed > ABANDON_FACTOR * budget.remaining():
                raise ModelTimeout(f"{plan.n_folds - k} folds left would need ~{needed:.0f}s, "
                                   f"{budget.remaining():.0f}s remain")
            # Each remaining fold gets an equal share of what is left.
            fold_budget = budget.sub(budget.remaining() / (plan.n_folds - k))
            model = family(self.config.params, self.info, seed=self.seed + k, n_threads=n_threads,
                           device=self.device)
            if family.uses_validation:
                fit_rows, val_rows = inner_split(y[train], self.info.task, seed=self.seed + k)
                model.fit(X.take(train[fit_rows]), y[train[fit_rows]], X.take(train[val_rows]),
                          y[train[val_rows]], budget=fold_budget)
            else:
                model.fit(X.take(train), y[train], budget=fold_budget)
            t = time.perf_counter()
            oof[held_out] = model.predict(X.take(held_out))
            predict_seconds += time.perf_counter() - t
            self.models_.append(model)
        self.fit_seconds_ = time.perf_counter() - start - predict_seconds
        # Seconds to predict 1,000 rows with all fold copies (each copy saw ~1/k of the rows).
        self.predict_seconds_per_1k_ = predict_seconds * plan.n_folds * 1000.0 / len(y)
        return oof

    def predict(self, X: EncodedTable) -> np.ndarray:
        """The mean of the fold copies' predictions."""
        total = self.models_[0].predict(X).astype(np.float64)
        for model in self.models_[1:]:
            total += model.predict(X)
        return (total / len(self.models_)).astype(np.float32)

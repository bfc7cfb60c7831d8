"""Model pools: which stored models a strategy may use, and strategies fitted on such a subset."""
from __future__ import annotations

import numpy as np

from .base import EnsembleStrategy


def select_pool(losses: np.ndarray, families: list[str], top_k: int | None = None,
                family_cap: int | None = None) -> np.ndarray:
    """Indices of the best models by ``losses`` (lower is better): at most ``family_cap`` per
    family, then at most ``top_k`` in all (None: no limit). Always keeps the best model."""
    kept, per_family = [], {}
    for j in np.argsort(losses, kind="stable"):
        if family_cap is not None and per_family.get(families[j], 0) >= family_cap:
            continue
        per_family[families[j]] = per_family.get(families[j], 0) + 1
        kept.append(int(j))
    return np.sort(np.array(kept[:top_k] if top_k else kept))


class Pooled(EnsembleStrategy):
    """``strategy`` fitted on the models ``pool`` of a store; reads and reports store indices."""

    def __init__(self, strategy: EnsembleStrategy, pool: np.ndarray):
        super().__init__(strategy.metric, strategy.task, strategy.seed, strategy.n_threads)
        self.strategy = strategy
        self.pool = np.asarray(pool)
        self.name = strategy.name

    def fit(self, data, budget=None):
        self.n_models_ = data.n_models
        self.strategy.fit(data.of_models(self.pool), budget)
        return self

    def predict(self, predictions, features=None):
        return self.strategy.predict(predictions[self.pool], features)

    def predict_oof(self, predictions, features=None):
        return self.strategy.predict_oof(predictions[self.pool], features)

    @property
    def used_models(self) -> np.ndarray:
        return self.pool[self.strategy.used_models]

    def model_weights(self) -> np.ndarray | None:
        """Store-length weights of a weighted ensemble (None for row-dependent strategies)."""
        inner = self.strategy.model_weights()
        if inner is None:
            return None
        weights = np.zeros(self.n_models_)
        weights[self.pool] = inner
        return weights

    def describe(self) -> str:
        return self.strategy.describe()

    def get_state(self) -> dict:
        return {"pool": self.pool, "n_models": self.n_models_, "inner": self.strategy.get_state()}

    @classmethod
    def from_state(cls, state: dict, metric, task: str) -> "Pooled":
        from . import get_strategy

        inner = get_strategy(state["inner"]["strategy"]).from_state(state["inner"], metric, task)
        pooled = cls(inner, state["pool"])
        pooled.n_models_ = int(state["n_models"])
        return pooled

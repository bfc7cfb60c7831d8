"""The portfolio ordered for the table at hand, by what this table's own models showed.

A learned portfolio's order is its best bet before seeing the table: gains measured on the meta
suite, seconds timed at 3,000 rows. Once every family has had a configuration tried, the fit knows
better: a greedy ensemble of what trained says which families this table's ensemble uses. The
configurations still to train are re-ordered: those of families the ensemble uses first, in their
learned order, then those of families it left out (they train if time remains). A family with no
finished model keeps its place: there is no evidence either way. Orders learned offline for a
table's shape (a cost model, per task, for large tables) were measured and lost to the learned
order (benchmarks/README.md); this order is measured on the table itself.
"""
from __future__ import annotations

import numpy as np

from ..ensemble.data import EnsembleData
from ..ensemble.greedy import GreedyEnsemble
from ..metrics import Metric
from ..models.base import ModelConfig
from ..store import PredictionStore

# The greedy ensemble that weighs the families sees at most this many rows: which families it
# uses does not need every row, and its steps on 1,000,000 rows would take ~40 s (ROC AUC sorts).
ORDER_ROWS = 20_000
ORDER_ITERATIONS = 50  # the middle of the `auto` search's GES steps (25-100)


def reorder_point(configs: list[ModelConfig]) -> int:
    """Position after which every family of ``configs`` has had a configuration tried."""
    first_of = {}
    for i, config in enumerate(configs):
        first_of.setdefault(config.family, i)
    return max(first_of.values(), default=0) + 1


def left_out_families(store: PredictionStore, metric: Metric, task: str, seed: int = 0) -> set[str]:
    """Families of the stored models that a greedy ensemble of their OOF predictions gives no weight
    (none when the store holds one family, or when a model's score on the rows weighed is not finite,
    as on rows of one class: no evidence to order by)."""
    families = {record.family for record in store.records}
    if len(families) < 2:
        return set()
    data = EnsembleData.from_store(store)
    if len(data) > ORDER_ROWS:
        data = data.take(np.sort(np.random.default_rng(seed).choice(len(data), ORDER_ROWS, replace=False)))
    if not all(np.isfinite(metric.score(data.y, p, data.sample_weight)) for p in data.predictions):
        return set()
    weights = GreedyEnsemble(metric, task, seed, n_iterations=ORDER_ITERATIONS).fit(data).weights_
    return families - {record.family for record, weight in zip(store.records, weights) if weight > 0}


def families_last(rest: list[ModelConfig], families: set[str]) -> list[ModelConfig]:
    """``rest`` with the configurations of ``families`` moved last, each part in its order."""
    return [c for c in rest if c.family not in families] + [c for c in rest if c.family in families]

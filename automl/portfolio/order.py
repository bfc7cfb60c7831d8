"""A learned portfolio ordered for the table at hand, at ``fit`` time.

The selection (``select.py``) chose the portfolio's configurations on the meta suite, at most
3,000 training rows each, and ordered them by gain per second *there*. A fit on 50,000 rows or 26
classes pays other prices (kNN's prediction grows with rows², boosting's rounds with classes), and a
regression table gains from other configurations than a classification one. So the portfolio file
keeps its evidence: each configuration's normalized test error and OOF loss on every meta dataset,
and a cost model (``cost.py``). At fit time the configurations are ordered again, greedily, by the
gain they add on the meta datasets of the same task (TabRepo's single-best scoring: a prefix scores
on a dataset what its member with the best OOF loss scores on test) per second *predicted for this
table*. A portfolio without evidence (hand-written, or a user's) keeps its order.
"""
from __future__ import annotations

import numpy as np

from ..models.base import ModelConfig
from .cost import CostModel, TableShape

# Datasets of the table's own task the evidence needs before it is read alone; the meta suite has
# 25-33 per task (89 datasets), so this only matters for a portfolio learned on another suite.
MIN_SAME_TASK = 10


def order_for_table(configs: list[ModelConfig], evidence: dict, cost: CostModel, table: TableShape) -> list[ModelConfig]:
    """``configs`` in the order that adds the most evidence-weighted gain per predicted second on
    ``table``; configurations the evidence does not cover follow in their own order."""
    covered = [c for c in configs if c.name in evidence["test_error"] and np.isfinite(cost.seconds(c, table))]
    rest = [c for c in configs if c not in covered]
    if not covered:
        return configs
    tasks = np.array([d["task"] for d in evidence["datasets"]])
    weight = (tasks == table.task).astype(float)
    if weight.sum() < MIN_SAME_TASK:
        weight = np.ones(len(tasks))
    weight /= weight.sum()
    test = np.array([_values(evidence["test_error"][c.name], 1.0) for c in covered])
    oof = np.array([_values(evidence["oof_loss"][c.name], np.inf) for c in covered])
    seconds = np.array([cost.seconds(c, table) for c in covered])
    alone = test @ weight

    order: list[int] = []
    error = np.ones(len(tasks))  # the empty portfolio: the median configuration's error everywhere
    best_oof = np.full(len(tasks), np.inf)
    while len(order) < len(covered):
        options = [j for j in range(len(covered)) if j not in order]
        # a dataset's choice moves to option j where j's OOF loss beats the prefix's best
        errors = [np.where(oof[j] < best_oof, test[j], error) @ weight for j in options]
        values = (error @ weight - np.array(errors)) / np.maximum(seconds[options], 1e-3)
        ties = np.flatnonzero(values >= values.max() - 1e-12)
        j = options[int(ties[np.argmin(alone[[options[t] for t in ties]])])]
        order.append(j)
        error = np.where(oof[j] < best_oof, test[j], error)
        best_oof = np.minimum(best_oof, oof[j])
    return [covered[j] for j in order] + rest


def _values(column: list, missing: float) -> np.ndarray:
    """A configuration's per-dataset numbers; null (it failed there) reads as ``missing``."""
    return np.array([missing if v is None else v for v in column], dtype=float)

"""Lighter ensembles: the search's winner without the members that cost prediction time and add
nothing, judged by its OOF score (cross-fitted for strategies that learn from rows), which must stay
within ``LIGHTEN_TOLERANCE`` of the full winner's:
- a weighted winner leaves out one member at a time, costliest to predict first, and is refitted
  on the rest of its pool (a cheaper model may take the member's place);
- a winner that reads every member on every row (stacking, DES) is refitted once, on the members
  of GES on its pool made lighter so, when the time left pays for another fit like the winner's: a
  refit per member would cost a stacking fit each.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..budget import TimeBudget
from .base import EnsembleStrategy
from .greedy import GreedyEnsemble

# Half the 0.2% (relative) of test metric that issue 12 allows a faster ensemble to lose.
LIGHTEN_TOLERANCE = 0.001


class Lightener:
    """``fit(name, params, pool)``: a strategy by name, fitted on every OOF row with the models
    ``pool`` (indices; None: all); ``oof_loss(strategy)``: its honest OOF loss; ``costs``: each
    stored model's prediction seconds per 1,000 rows."""

    def __init__(self, fit: Callable[[str, dict, np.ndarray | None], EnsembleStrategy],
                 oof_loss: Callable[[EnsembleStrategy], float], costs: np.ndarray, budget: TimeBudget):
        self.fit, self.oof_loss, self.costs, self.budget = fit, oof_loss, np.asarray(costs), budget

    def lighten(self, strategy: EnsembleStrategy, name: str, params: dict, pool: np.ndarray | None,
                fit_seconds: float) -> tuple[EnsembleStrategy, list[int]]:
        """(the lighter winner, the stored models left out) of ``strategy``, fitted as ``name`` with
        ``params`` on ``pool``; ``fit_seconds``: what that fit took."""
        if strategy.model_weights() is not None:
            return self._leave_out_costly(strategy, name, params, pool)
        ges, _ = self._leave_out_costly(self.fit(GreedyEnsemble.name, {}, pool), GreedyEnsemble.name, {}, pool)
        dropped = np.setdiff1d(self._all(pool), ges.used_models).tolist()
        if not dropped or self.budget.remaining() <= fit_seconds:
            return strategy, []
        lighter = self._without(name, params, pool, dropped, self.oof_loss(strategy))
        return (lighter, dropped) if lighter is not None else (strategy, [])

    def _leave_out_costly(self, strategy: EnsembleStrategy, name: str, params: dict, pool: np.ndarray | None
                          ) -> tuple[EnsembleStrategy, list[int]]:
        """A weighted ``strategy`` without each member, costliest to predict first, that it can do without."""
        full_loss = self.oof_loss(strategy)  # each lighter one is held to the full one, not its predecessor
        tried: set[int] = set()
        dropped: list[int] = []
        while not self.budget.expired() and len(strategy.used_models) > 1:
            waiting = [j for j in strategy.used_models if j not in tried]
            if not waiting:
                break
            j = max(waiting, key=lambda k: self.costs[k])
            tried.add(j)
            lighter = self._without(name, params, pool, dropped + [j], full_loss)
            if lighter is not None:
                strategy = lighter
                dropped.append(j)
        return strategy, dropped

    def _without(self, name: str, params: dict, pool: np.ndarray | None, left_out: list[int], full_loss: float
                 ) -> EnsembleStrategy | None:
        """The strategy refitted on ``pool`` without ``left_out``, if its OOF loss is within the
        tolerance of ``full_loss``; else None."""
        lighter = self.fit(name, params, np.setdiff1d(self._all(pool), left_out))
        allowed = LIGHTEN_TOLERANCE * max(abs(full_loss), 1e-12)
        return lighter if self.oof_loss(lighter) <= full_loss + allowed else None

    def _all(self, pool: np.ndarray | None) -> np.ndarray:
        return np.arange(len(self.costs)) if pool is None else pool

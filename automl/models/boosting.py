"""What the three gradient-boosting families share.

Boosting is any-time: every round improves the model, so a configuration that cannot finish in
the time there is need not be lost. This module holds the one implementation of
- the set-up: family defaults merged with the configuration, our round options popped;
- the per-round bookkeeping (``Rounds``) that every family's callback calls: early stopping on
  the inner split, a hard stop when the budget ends, and the clock that prices a round;
- whether a fold stopped by its budget is still worth keeping (``usable``);
- adapting a configuration to the rounds that the time affords (``adapt``): fewer rounds at a
  higher learning rate, which BaggedModel asks for after pricing a round on a short probe.
"""
from __future__ import annotations

import math
import time
from typing import ClassVar

import numpy as np

from ..budget import TimeBudget
from .base import Model, ModelTimeout, Patience

# Above this rate the trees of the first rounds overfit their residuals: adaptation stops here
# and cuts rounds instead.
MAX_LEARNING_RATE = 0.3
# A fold stopped by its budget with fewer rounds than this keeps nothing worth ensembling.
MIN_ROUNDS = 10


class Rounds:
    """Per-round bookkeeping of one boosting fit, called by the family's callback.

    Without validation rows (``patience`` None: a refit of a known number of rounds) only the
    budget stops training early, and the best round is the last.
    """

    def __init__(self, patience: int | None, budget: TimeBudget | None):
        self.validated = patience is not None
        self.patience = Patience(patience if self.validated else 0)
        self.budget = budget
        self.started = time.perf_counter()
        self.first_round_at: float | None = None
        self.last_round_at: float | None = None
        self.done = 0
        self.stopped_by_budget = False

    def after(self, iteration: int, val_loss: float | None) -> bool:
        """Records round ``iteration`` and its validation loss (None without validation rows);
        True when training should stop."""
        now = time.perf_counter()
        self.first_round_at = now if self.first_round_at is None else self.first_round_at
        self.last_round_at, self.done = now, iteration + 1
        stop = self.patience.update(iteration, val_loss) if self.validated else False
        if self.budget is not None and self.budget.expired():
            self.stopped_by_budget = not stop
            return True
        return stop

    @property
    def best_iteration(self) -> int:
        return self.patience.best_iteration if self.validated else self.done - 1

    def seconds_per_round(self) -> float:
        """Wall seconds of one round, without the set-up before the first (data binning)."""
        if self.done > 1:
            return (self.last_round_at - self.first_round_at) / (self.done - 1)
        return self.setup_seconds() if self.done else math.inf

    def setup_seconds(self) -> float:
        return (self.first_round_at or time.perf_counter()) - self.started


class BoostedModel(Model):
    """Base of the boosting families: ``fit`` starts with ``self._setup(y, y_val, budget)``, its
    callback calls ``self.rounds_.after(iteration, val_loss)``, and the fitted model keeps the
    trees up to ``self.rounds_.best_iteration`` (what ``predict`` uses and ``fitted_state`` saves)."""

    uses_validation = True
    anytime = True
    keeps_partial = True
    defaults: ClassVar[dict]
    # Rounds x learning rate that the family's configurations are taken to need to converge:
    # the median of best round x learning rate in benchmarks/results/boosting_rounds.csv.
    learning_mass: ClassVar[float]

    def _setup(self, y: np.ndarray, y_val: np.ndarray, budget: TimeBudget | None) -> tuple[dict, int]:
        """The library's parameters (our ``max_rounds`` and ``patience`` taken out) and the round
        cap; starts the round bookkeeping."""
        params = {**self.defaults, **self.params}
        max_rounds, patience = int(params.pop("max_rounds")), int(params.pop("patience"))
        self.rounds_ = Rounds(patience if y_val is not None else None, budget)
        self.prior_loss_ = prior_loss(y, y_val, self.info.task) if y_val is not None else None
        return params, max_rounds

    @property
    def usable(self) -> bool:
        """A fit stopped by its budget is kept when it had rounds enough to learn something and
        beats the prior (class frequencies, or the mean) on its validation rows."""
        rounds = self.rounds_
        if not rounds.stopped_by_budget:
            return True
        if not rounds.validated:  # a refit cut short of the rounds its copies needed is worse than they are
            return False
        return rounds.done >= MIN_ROUNDS and rounds.patience.best_loss < self.prior_loss_

    @property
    def best_rounds(self) -> int:
        """Rounds up to the best one: this fit's, or (a loaded copy) those saved with it."""
        if hasattr(self, "rounds_"):
            return self.rounds_.best_iteration + 1
        if getattr(self, "saved_best_rounds_", None) is None:
            raise ValueError("this model was saved before its round count was kept; it cannot be refitted")
        return self.saved_best_rounds_

    def get_state(self) -> dict:
        return {**super().get_state(), "best_rounds": self.best_rounds}

    @classmethod
    def from_state(cls, state: dict) -> "BoostedModel":
        model = super().from_state(state)
        model.saved_best_rounds_ = state.get("best_rounds")  # absent in folders saved before it was kept
        return model

    @classmethod
    def full_params(cls, params: dict, copies: list, scale: float) -> dict:
        """The copies' mean best round count, scaled by the rows: trained without validation rows."""
        rounds = np.mean([copy.best_rounds for copy in copies]) * scale
        return {**params, "max_rounds": max(1, int(round(rounds)))}

    @classmethod
    def refit_growth(cls, copies: list, scale: float) -> float:
        """The refit's rounds against those the copies trained (their best, then patience's, or
        the budget's): a copy loaded from a folder keeps only its best rounds and counts those."""
        trained = np.mean([copy.rounds_.done if hasattr(copy, "rounds_") else copy.best_rounds for copy in copies])
        return cls.full_params({}, copies, scale)["max_rounds"] / max(1.0, float(trained))

    @classmethod
    def adapt(cls, params: dict, n_copies: int, affordable_rounds) -> tuple[dict, int, str]:
        """Copies are cut (down to 2) until one can afford the rounds the configuration needs at
        the highest learning rate; then the rate rises so that it converges in the rounds there are."""
        copies = n_copies
        while copies > 2 and affordable_rounds(copies) * MAX_LEARNING_RATE < cls.learning_mass:
            copies -= 1
        rounds = affordable_rounds(copies)
        if rounds < MIN_ROUNDS:  # its folds would keep nothing usable: the time goes to the configurations after it
            raise ModelTimeout(f"the time left affords {rounds:.0f} rounds a copy, fewer than {MIN_ROUNDS}")
        rate = float({**cls.defaults, **params}["learning_rate"])
        notes = [f"{copies} copies"] if copies < n_copies else []
        if rounds * rate < cls.learning_mass:
            rounds = max(1, int(rounds))
            adapted_rate = min(MAX_LEARNING_RATE, max(rate, cls.learning_mass / rounds))
            params = {**params, "learning_rate": round(adapted_rate, 4), "max_rounds": rounds}
            notes.insert(0, f"lr {adapted_rate:.2g}, {rounds} rounds" if adapted_rate > rate else f"{rounds} rounds")
        return params, copies, ", ".join(notes)


def prior_loss(y: np.ndarray, y_val: np.ndarray, task: str) -> float:
    """The validation loss of predicting without features, in the units the families stop on:
    log loss of the training class frequencies, or RMSE of the training mean."""
    if task == "regression":
        return float(np.sqrt(np.mean((y_val - np.mean(y)) ** 2)))
    frequencies = np.bincount(y, minlength=int(max(y.max(), y_val.max())) + 1) / len(y)
    return float(-np.mean(np.log(np.clip(frequencies[y_val], 1e-15, 1.0))))

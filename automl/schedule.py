"""Schedule: how a fit divides its time limit, every share and guard in one place.

The steps of a fit run on child budgets of the fit's ``TimeBudget``: training, then the ensemble
search (its study, then the guard comparison and the final refit), then refitting the chosen
members on all rows, then saving. The components take a ``Schedule`` (``SCHEDULE`` by default),
so a test or a study can change one number without touching the code that applies it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .budget import TimeBudget

# Trials of the ``auto`` search when training used its share of the time.
SEARCH_TRIALS = 50


@dataclass(frozen=True)
class Schedule:
    # ---- folds: each fold is a full model fit, so the data's size for the time given sets them
    folds: int = 8
    # Above this many rows, fewer folds whatever the limit.
    many_rows: int = 100_000
    many_rows_folds: int = 4
    # Rows x features x trees per round, per second of the limit, above which a fit uses fewer folds.
    costly_cells_per_second: float = 2_000
    costly_folds: int = 5

    # ---- training (automl.models.training, automl.models.bagging)
    # The first model is an any-time (boosting) configuration adapted to this share of the training
    # time, so every fit has one strong model early, whatever the table, before the cheap ones.
    first_share: float = 0.25
    # No single model may take more than this share of the training time that is left, so one
    # slow configuration cannot starve the rest of the portfolio.
    max_share_per_model: float = 0.4
    # Below this many seconds left, no further model is started.
    min_seconds_to_start: float = 1.0
    # A model whose first folds (or whose family's last model) project past its budget by this
    # factor is abandoned right away, rather than after spending its budget on folds thrown away.
    abandon_factor: float = 1.5

    # ---- any-time (boosting) families (automl.models.bagging): rounds of the pricing probe (the
    # first round's set-up, data binning, is timed apart), and the share of a copy's time its
    # rounds are planned to fill: the rest pays for predicting the held-out rows and the variance
    # of round times.
    probe_rounds: int = 10
    round_safety: float = 0.7

    # ---- after training (automl.estimator)
    # Share of the limit kept back from training for the ensemble step and saving (plus a fixed
    # margin); the ``auto`` search gets a larger share, and at most search_max_share if training
    # ends early.
    reserve_share: float = 0.05
    reserve_seconds: float = 2.0
    search_share: float = 0.10
    search_max_share: float = 0.25
    # Seconds for the search when there is no time limit (and fit_ensemble's default cap).
    unlimited_search_seconds: float = 120.0
    save_seconds: float = 1.0
    # When every configuration is trained before the training budget ends, the search gets all
    # the time that is left and up to this many trials.
    leftover_trials: int = 200
    # Refitting members has its own share of the limit, kept from training when refit is asked
    # for (a member's refit costs ~1/(k-1) of its bag, and the members took ~half of the training
    # time in the 120 s dev runs: ~7% of the limit); the search leaves the cost of refitting this
    # many best models (GES ensembles here use 1-6), at most that share. With the time left alone,
    # only 0-1 of 2-6 members were refitted at 120 s (benchmarks/results/refit_fix_check.md).
    refit_share: float = 0.10
    refit_reserve_models: int = 5

    # Seconds per (row x feature x model) of the difficulty model of regression intervals (one per
    # fold, plus one on all rows): 2.2-3.1e-7 on 40,000 rows x 10-30 features, 5 folds, 2 threads of a
    # busy 2-core machine (1.0e-6 on 5,000 rows, where ~0.25 s of set-up dominates).
    conformal_seconds_per_cell: float = 3e-7

    # ---- distillation (automl.distill): the student's fold copies take this share of its budget,
    # its refit on every row (one model to predict with) what they leave.
    student_copies_share: float = 0.7
    # At most this share of a distillation's budget goes to the teacher's predictions of each fold.
    teaching_share: float = 0.5

    # ---- inside the ensemble search (automl.ensemble.search)
    # Share of the search budget kept for the guard comparison and the final refit.
    search_final_share: float = 0.3
    # Share of the study's budget stacking's next-layer models may take.
    stacking_share: float = 0.4

    def n_folds(self, n_rows: int, n_features: int, time_limit: float | None, n_classes: int = 0) -> int:
        """``folds``, fewer when the data is large for the time given.

        Gradient boosting grows one tree per class and round on multiclass tasks, so the classes
        multiply the cost.
        """
        if n_rows > self.many_rows:
            return self.many_rows_folds
        trees_per_round = n_classes if n_classes > 2 else 1
        cost = n_rows * max(n_features, 1) * trees_per_round
        if time_limit is not None and cost / max(time_limit, 1.0) > self.costly_cells_per_second:
            return self.costly_folds
        return self.folds

    def model_share(self, position: int, n_left: int, anytime: bool) -> float:
        """Share of the training time left that the configuration at ``position`` (0: first) may
        spend, ``n_left`` configurations (itself included) still to train."""
        if position == 0 and anytime:
            return self.first_share
        return max(1.0 / n_left, self.max_share_per_model)

    def hopeless(self, expected: float, available: float) -> bool:
        """Whether a configuration expected to take ``expected`` seconds (what its family's last
        model took) should not start with ``available`` seconds: it would end truncated or thrown
        away, and the time goes to the cheaper configurations after it instead."""
        return expected > self.abandon_factor * available

    def affordable_rounds(self, remaining: float, copies: int, workers: int, setup_seconds: float,
                          seconds_per_round: float) -> float:
        """Rounds one copy of an any-time model can pay for when ``copies`` copies, ``workers`` at
        a time, share ``remaining`` seconds; ``setup_seconds`` and ``seconds_per_round``: one
        copy's, measured on the probe and scaled to the rows a copy trains on."""
        seconds = self.round_safety * remaining / math.ceil(copies / workers) - setup_seconds
        return max(0.0, seconds / seconds_per_round)

    @staticmethod
    def projected_seconds(finished: list[float], waves_left: int) -> float:
        """Seconds ``waves_left`` more waves of folds (side by side) need, at the mean of the
        ``finished`` folds' seconds (0 before any finished)."""
        return sum(finished) / len(finished) * waves_left if finished else 0.0

    def search_seconds(self, time_limit: float | None, remaining: float, training_left: float,
                       refit_reserve: float) -> tuple[float, int]:
        """(seconds, trials) for the ensemble search, from the facts after training: the limit,
        the seconds left in the fit, those training left unused, and the refit's expected cost.

        Training that ends with time to spare has trained every configuration: the search gets
        what is left (minus saving and the refit) and up to ``leftover_trials``, rather than the
        fit returning early; otherwise at most ``search_max_share`` of the limit."""
        if time_limit is None:
            return self.unlimited_search_seconds, SEARCH_TRIALS
        kept_back = self.save_seconds + min(refit_reserve, self.refit_share * time_limit)
        if training_left > self.reserve_share * time_limit:
            return max(0.0, remaining - kept_back), self.leftover_trials
        return max(0.0, min(remaining - kept_back, self.search_max_share * time_limit)), SEARCH_TRIALS

    def difficulty_model_fits(self, cells: int, remaining: float) -> bool:
        """Whether the difficulty model of regression intervals, ``cells`` rows x features x
        models to train, fits in the ``remaining`` seconds (less saving)."""
        return remaining > self.save_seconds + self.conformal_seconds_per_cell * cells

    def student_copies_budget(self, budget: "TimeBudget") -> "TimeBudget":
        """The share of a distillation's ``budget`` its student's fold copies may take."""
        return budget.fraction(self.student_copies_share)

    def teaching_fits(self, needed: float, remaining: float) -> bool:
        """Whether the teacher's predictions of every fold, ``needed`` seconds, leave the student
        enough of the ``remaining`` seconds."""
        return needed <= self.teaching_share * remaining

    def refit_fits(self, cost: float, remaining: float) -> bool:
        """Whether a refit expected to take ``cost`` seconds fits in ``remaining`` (less saving)."""
        return cost + self.save_seconds <= remaining

    def study_budget(self, search: "TimeBudget") -> tuple["TimeBudget", float]:
        """The ``auto`` search's study budget (the rest of ``search`` is for the guard comparison
        and the final refit) and the seconds stacking's next layer may take of it."""
        study = search.fraction(1 - self.search_final_share)
        return study, study.remaining() * self.stacking_share

    def refit_order(self, costs: dict[str, float], savings: dict[str, float], remaining: float | None
                    ) -> tuple[list[str], list[str]]:
        """(members to refit, cheapest first so the costliest gets what the others leave; members
        skipped). ``remaining`` None: every member (``refit=True``); else the members whose summed
        refit ``costs`` fit in ``remaining`` less saving, the most prediction seconds saved
        (``savings``) per refit second first."""
        if remaining is None:
            chosen = list(costs)
        else:
            chosen, planned = [], 0.0
            for name in sorted(costs, key=lambda n: -savings[n] / max(costs[n], 1e-9)):
                if self.refit_fits(planned + costs[name], remaining):
                    chosen.append(name)
                    planned += costs[name]
        return sorted(chosen, key=lambda n: costs[n]), [n for n in costs if n not in chosen]

    def training_reserve(self, time_limit: float | None, searched: bool, refit: bool) -> float:
        """Seconds kept back from training for what follows it."""
        if time_limit is None:
            return 0.0
        share = (self.search_share if searched else self.reserve_share) + (self.refit_share if refit else 0.0)
        return share * time_limit + self.reserve_seconds


SCHEDULE = Schedule()

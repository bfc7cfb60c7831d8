"""The ``auto`` ensemble: an Optuna study over strategies, their settings and model pools.

Honest validation, in three parts (every split made of whole groups when the rows have groups,
every score weighted when they have weights):
1. A guard slice (15% of the OOF rows, stratified) never enters the study.
2. Each trial is scored by cross-fitting over the remaining rows: fit on 4 of 5 fixed inner
   folds (the same for every trial), score the fifth, report per fold so Optuna's Wilcoxon
   pruner can stop trials that lose to the best fold by fold.
3. The best trial of each strategy is refitted on all study rows and predicts the guard
   slice; with its cross-fitted predictions of the study rows, every row then has an honest
   prediction. The decision is a chain of steps, each taken only on evidence (a paired
   bootstrap of those honest predictions, ``ensemble.evidence``): GES replaces the single best
   model if it wins on most resamples; the strongest other strategy replaces that if it wins
   on the share of resamples it declares (``evidence_needed``), and strategies that learn from
   rows need more when the rows (or the minority class) are few. The winner is then refitted
   on all OOF rows, and made lighter: members that cost prediction time and add less than
   ``LIGHTEN_TOLERANCE`` of its OOF score are left out (``ensemble.lighten``).

The search knows no strategy by name (beyond the enqueued defaults and GES as the fallback): the
decision chain's steps come from each strategy's ``chain_step``; it iterates the registry
(``automl.ensemble.STRATEGIES``) in order of ``complexity``, leaves out those whose
``too_costly`` says one trial would take minutes, and lets each ``suggest`` its own settings and
model pool. A strategy whose trials share expensive work computes it once in ``trial_inputs``
(stacking trains its next layer once, on the study rows) and fits a cheap stand-in per trial
(``for_trial``). The first trials are enqueued defaults (single best, GES 25, GES 50); the
sampler is seeded, multivariate TPE.
"""
from __future__ import annotations

import json
import logging
import math
import time
import warnings
from dataclasses import asdict, dataclass, field

import numpy as np
import optuna
import pandas as pd

from ..budget import TimeBudget
from ..context import FitContext
from ..failures import raise_if_strict
from ..folds import fold_ids, holdout_split
from ..schedule import SEARCH_TRIALS as DEFAULT_N_TRIALS
from . import STRATEGIES
from .base import EnsembleStrategy
from .data import EnsembleData
from .evidence import effective_rows, win_probability
from .greedy import GreedyEnsemble
from .lighten import LIGHTEN_TOLERANCE, Lightener
from .mixture_loss import MixtureLoss
from .pool import Pooled, select_pool

log = logging.getLogger("automl")

GUARD_SHARE, INNER_FOLDS = 0.15, 5
# Below this many OOF rows the guard slice and inner folds are too small to tell strategies apart.
MIN_SEARCH_ROWS = 100
# Below this many effective rows (evidence.effective_rows: rows, or the minority class times the
# classes) strategies that learn from rows need this much evidence: on a held-out table with
# ~450 positives, stacking looked 0.03 AUC better than the best model cross-fitted and was worse
# on test.
FEW_ROWS, FEW_ROWS_EVIDENCE = 1000, 0.99
POOL_TOP_K = (0, 5, 10, 20)
DEFAULT_TRIALS = ({"strategy": "best"}, {"strategy": "ges", "ges_iterations": 25},
                  {"strategy": "ges", "ges_iterations": 50})


@dataclass
class Trial:
    """One trial of the study: a strategy, its settings and model pool, and how it did."""

    number: int
    strategy: str
    params: dict
    pool: list[int] | None  # stored models it may use (None: all)
    fold_losses: list[float] = field(default_factory=list)
    state: str = "running"  # then "complete", "pruned" or "failed"
    error: str = ""  # why it failed
    seconds: float = 0.0
    cv_loss: float = math.nan  # mean of the fold losses, when complete

    def pool_indices(self) -> np.ndarray | None:
        return None if self.pool is None else np.array(self.pool)


@dataclass
class SearchResult:
    strategy: EnsembleStrategy  # fitted on all OOF rows
    report: pd.DataFrame  # one row per strategy tried
    trace: list[Trial] = field(default_factory=list)  # one per trial

    def save_trace(self, path) -> None:
        payload = {"trials": [asdict(trial) for trial in self.trace], "report": self.report.to_dict(orient="records")}
        with open(path, "w") as f:
            json.dump(payload, f, indent=1, default=str)


def search_ensemble(data: EnsembleData, context: FitContext, budget: TimeBudget,
                    n_trials: int = DEFAULT_N_TRIALS) -> SearchResult:
    """Runs the study on ``data`` (every stored model's OOF predictions) within ``budget`` and
    returns the winner fitted on all rows."""
    if len(data) < MIN_SEARCH_ROWS:
        return _plain_ges(data, context, [], f"fewer than {MIN_SEARCH_ROWS} rows: no search")
    return Search(data, context).run(budget, n_trials)


def _plain_ges(data: EnsembleData, context: FitContext, trace: list, reason: str) -> SearchResult:
    """GES 50 on every model and row: the fallback when the search cannot decide."""
    log.info("Ensemble search: %s; using GES.", reason)
    strategy = GreedyEnsemble(context.metric, context.info.task, context.seed,
                              n_threads=context.resources.threads).fit(data)
    report = pd.DataFrame([{"strategy": "ges", "chosen": True, "reason": reason}])
    return SearchResult(strategy, report, trace)


class Search:
    """One study on every stored model's OOF predictions (``data``). Strategies' search hooks
    (``EnsembleStrategy.suggest``, ``trial_inputs``) read what ``base.TrialContext`` lists of it."""

    def __init__(self, data: EnsembleData, context: FitContext):
        self.data, self.context = data, context
        self.metric, self.task, self.seed = context.metric, context.info.task, context.seed
        self.n_threads, self.schedule = context.resources.threads, context.schedule
        self.families = [r.family for r in data.records]
        self.costs = np.array([r.predict_seconds_per_1k for r in data.records])  # per 1,000 rows, per model
        self.study_rows, self.guard_rows = holdout_split(data.y, self.task, self.seed,
                                                         math.ceil(GUARD_SHARE * len(data)), data.groups)
        study = data.take(self.study_rows)
        inner = fold_ids(study.y, INNER_FOLDS, self.task, self.seed, study.groups)
        self.folds = [(self.study_rows[inner != k], self.study_rows[inner == k]) for k in range(inner.max() + 1)]
        self.single_losses = MixtureLoss(self.metric, study.predictions, study.y, study.sample_weight,
                                         self.n_threads).of_each_model()
        self.shared: dict[str, object] = {}
        self.study_budget, self.stacking_seconds = TimeBudget(None), None  # set by run
        # Each strategy's best trial (the earliest of equal losses, as _choose picks it): its
        # cross-validated loss and held-out predictions.
        self.cross_fitted: dict[str, tuple[float, np.ndarray]] = {}
        ranked = sorted(STRATEGIES.items(), key=lambda item: item[1].complexity)
        self.strategies = {name: cls for name, cls in ranked if not cls.too_costly(*data.predictions.shape)}
        self.trace: list[Trial] = []

    def suggest_pool(self, trial: optuna.Trial, top_k: tuple[int, ...] = POOL_TOP_K) -> np.ndarray:
        """A pool of the best models (by their study-row loss): at most a suggested number of
        ``top_k`` (0: all), and at most a suggested number per family."""
        # An Optuna parameter keeps one set of choices: other choices are another parameter.
        name = "pool_top_k" if top_k == POOL_TOP_K else "pool_top_k_" + "_".join(map(str, top_k))
        k = trial.suggest_categorical(name, list(top_k))
        family_cap = trial.suggest_categorical("pool_family_cap", [0, 1, 2, 3])
        return select_pool(self.single_losses, self.families, k or None, family_cap or None)

    # ------------------------------------------------------------------ the study
    def run(self, budget: TimeBudget, n_trials: int) -> SearchResult:
        study_budget, self.stacking_seconds = self.schedule.study_budget(budget)
        self.study_budget = study_budget
        verbosity = optuna.logging.get_verbosity()
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                sampler = optuna.samplers.TPESampler(seed=self.seed, multivariate=True, group=True)
                study = optuna.create_study(sampler=sampler, pruner=optuna.pruners.WilcoxonPruner(p_threshold=0.1))
            for params in DEFAULT_TRIALS:
                study.enqueue_trial(params)
            study.optimize(lambda trial: self._objective(trial, study_budget), n_trials=n_trials,
                           timeout=study_budget.remaining() if study_budget.limited else None,
                           catch=(Exception,))
        finally:
            optuna.logging.set_verbosity(verbosity)
        return self._choose(budget)

    def _objective(self, trial: optuna.Trial, budget: TimeBudget) -> float:
        start = time.perf_counter()
        name = trial.suggest_categorical("strategy", list(self.strategies))
        params, pool = self.strategies[name].suggest(trial, self)
        entry = Trial(trial.number, name, params, None if pool is None else pool.tolist())
        self.trace.append(entry)
        cross_fitted = np.zeros(self.data.predictions.shape[1:], dtype=np.float32)
        try:
            for step, (train, held) in enumerate(self.folds):
                if budget.expired():
                    raise optuna.TrialPruned("search time is up")
                fold_budget = budget.share(len(self.folds) - step)
                strategy = self._make(name, params, pool).for_trial().fit(self._inputs(name, train), fold_budget)
                held_data = self._inputs(name, held)
                cross_fitted[held] = strategy.predict(held_data.predictions, held_data.features)
                loss = self.metric.loss(held_data.y, cross_fitted[held], held_data.sample_weight)
                entry.fold_losses.append(loss)
                trial.report(loss, step)
                if trial.number >= len(DEFAULT_TRIALS) and trial.should_prune():  # defaults always finish
                    raise optuna.TrialPruned()
        except optuna.TrialPruned:
            entry.state = "pruned"
            raise
        except Exception as exc:  # a failing strategy is logged and skipped, like a failing model
            raise_if_strict(exc)
            entry.state, entry.error = "failed", f"{type(exc).__name__}: {exc}"
            log.warning("Ensemble search: trial %d (%s) failed: %s", trial.number, name, exc)
            raise
        finally:
            entry.seconds = time.perf_counter() - start
        entry.state, entry.cv_loss = "complete", float(np.mean(entry.fold_losses))
        if entry.cv_loss < self.cross_fitted.get(name, (np.inf,))[0]:
            self.cross_fitted[name] = (entry.cv_loss, cross_fitted)
        return entry.cv_loss

    # ------------------------------------------------------------------ fitting pieces
    def _make(self, name: str, params: dict, pool: np.ndarray | None) -> EnsembleStrategy:
        strategy = STRATEGIES[name](self.metric, self.task, self.seed, n_threads=self.n_threads, **params)
        return strategy if pool is None else Pooled(strategy, pool)

    def _inputs(self, name: str, rows: np.ndarray) -> EnsembleData:
        """``rows`` as the strategy ``name``'s trials read them: the stored predictions, or the
        columns its trials share (``trial_inputs``)."""
        columns = self.strategies[name].trial_inputs(self)
        if columns is self.data.predictions:
            return self.data.take(rows)
        return self.data.take(rows).with_predictions(columns[:, rows])

    # ------------------------------------------------------------------ the decision
    def _choose(self, budget: TimeBudget) -> SearchResult:
        done = [e for e in self.trace if e.state == "complete"]
        best_of: dict[str, Trial] = {}
        for entry in sorted(done, key=lambda e: (e.cv_loss, e.number)):
            best_of.setdefault(entry.strategy, entry)
        second_step = sorted({cls.chain_step for cls in self.strategies.values()})[1:2]
        if not any(self.strategies[name].chain_step in second_step for name in best_of):
            # time ran out before the chain's second step (GES) finished: nothing to compare with
            return _plain_ges(self.data, self.context, self.trace,
                              "no trial of the decision chain's second step finished in time")
        honest, rows = {}, {}
        guard = self.data.take(self.guard_rows)
        for name, entry in best_of.items():
            guarded, seconds_per_1k, n_used = self._guard_predictions(entry, budget)
            honest[name] = self.cross_fitted[name][1].copy()
            honest[name][self.guard_rows] = guarded
            rows[name] = {"strategy": name, "trial": entry.number, "params": entry.params,
                          "pool_size": len(entry.pool or self.costs),
                          "cv_score": self.metric.to_score(entry.cv_loss),
                          "guard_score": self.metric.score(guard.y, guarded, guard.sample_weight),
                          "honest_score": self._score(honest[name]), "models_used": n_used,
                          "predict_seconds_per_1k": seconds_per_1k, "win_probability": np.nan,
                          "evidence_needed": np.nan}
        winner, reason = self._chain(honest, rows)
        report = pd.DataFrame(list(rows.values()))
        report["chosen"] = report["strategy"] == winner
        report["reason"] = np.where(report["chosen"], reason, "")
        start = time.perf_counter()
        chosen = best_of[winner]
        strategy = self._final(chosen, budget)
        lightener = Lightener(lambda name, params, pool: self._make(name, params, pool).fit(self.data, budget.sub(None)),
                              self._oof_loss, self.costs, budget)
        strategy, dropped = lightener.lighten(strategy, chosen.strategy, chosen.params, chosen.pool_indices(),
                                              time.perf_counter() - start)
        if dropped:
            log.info("Ensemble: %s left out, costing prediction time for less than %.1f%% of the OOF score.",
                     ", ".join(self.data.records[j].name for j in dropped), 100 * LIGHTEN_TOLERANCE)
        log.info("Ensemble search: %d trials, chose %s (%s).", len(self.trace), winner, reason)
        report = report.sort_values("honest_score", ascending=self.metric.sort_ascending(), ignore_index=True)
        return SearchResult(strategy, report, self.trace)

    def _chain(self, honest: dict[str, np.ndarray], rows: dict[str, dict]) -> tuple[str, str]:
        """The strongest strategy of the first ``chain_step`` (the single best model), then at each
        later step the strongest of that step's strategies (GES; then every other), each taking
        over only when it wins on enough paired bootstrap resamples of the honest predictions."""
        steps: dict[int, list[str]] = {}
        for name in honest:
            steps.setdefault(self.strategies[name].chain_step, []).append(name)

        def strongest(names: list[str]) -> str:
            return min(names, key=lambda name: self._loss(honest[name]))

        incumbent = strongest(steps[min(steps)])
        reason = STRATEGIES[incumbent].chain_description
        for challenger in [strongest(steps[step]) for step in sorted(steps)[1:]]:
            p = win_probability(self.metric, self.data.y, honest[challenger], honest[incumbent], task=self.task,
                                seed=self.seed, sample_weight=self.data.sample_weight)
            needed = self._evidence_needed(challenger)
            rows[challenger].update(win_probability=p, evidence_needed=needed)
            if p >= needed and p > 0.5:  # identical predictions (p = 0.5) are no reason to change
                reason = f"{challenger} beat {incumbent} on {p:.0%} of bootstrap resamples (needed {needed:.0%})"
                incumbent = challenger
            else:
                reason += f"; {challenger} beat it on only {p:.0%} of resamples (needed {needed:.0%})"
        return incumbent, reason

    def _evidence_needed(self, name: str) -> float:
        strategy = STRATEGIES[name]
        if strategy.learns_from_rows and effective_rows(self.data.y, self.task) < FEW_ROWS:
            return max(strategy.evidence_needed, FEW_ROWS_EVIDENCE)
        return strategy.evidence_needed

    def _guard_predictions(self, entry: Trial, budget: TimeBudget) -> tuple[np.ndarray, float, int]:
        """(guard-slice predictions, seconds per 1,000 rows at predict time, models used) of a
        trial refitted on the study rows."""
        name = entry.strategy
        strategy = self._make(name, entry.params, entry.pool_indices()).for_trial().fit(
            self._inputs(name, self.study_rows), budget.sub(None))
        guard = self._inputs(name, self.guard_rows)
        start = time.perf_counter()
        guarded = strategy.predict(guard.predictions, guard.features)
        combine = time.perf_counter() - start
        used = np.arange(self.data.n_models) if self.strategies[name].trials_read_every_model else strategy.used_models
        model_seconds = float(self.costs[used].sum())
        return guarded, model_seconds + combine * 1000 / len(self.guard_rows), len(used)

    def _final(self, entry: Trial, budget: TimeBudget) -> EnsembleStrategy:
        """The winner refitted on all OOF rows."""
        strategy = self._make(entry.strategy, entry.params, entry.pool_indices())
        return strategy.fit(self.data, budget.sub(None))

    def _oof_loss(self, strategy: EnsembleStrategy) -> float:
        return self._loss(strategy.predict_oof(self.data.predictions, self.data.features))

    def _loss(self, honest: np.ndarray) -> float:
        """The weighted loss of predictions of every OOF row."""
        return self.metric.loss(self.data.y, honest, self.data.sample_weight)

    def _score(self, honest: np.ndarray) -> float:
        return self.metric.score(self.data.y, honest, self.data.sample_weight)


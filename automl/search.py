"""The ``auto`` ensemble: an Optuna study over strategies, their settings and model pools.

Honest validation, in three parts:
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
   on all OOF rows.

The first trials are enqueued defaults (single best, GES 25, GES 50); the sampler is seeded,
multivariate TPE. Stacking's next-layer models are trained once per search on the study rows
(their OOF predictions become extra candidates for GES on top), not once per trial.
"""
from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
import optuna
import pandas as pd
from sklearn.model_selection import train_test_split

from .budget import TimeBudget
from .ensemble import STRATEGIES
from .ensemble.base import EnsembleStrategy
from .ensemble.evidence import effective_rows, win_probability
from .ensemble.greedy import GreedyEnsemble
from .ensemble.mixture_loss import MixtureLoss
from .ensemble.pool import Pooled, select_pool
from .ensemble.stacking import StackingEnsemble
from .metrics import Metric
from .store import PredictionStore
from .validation import can_stratify, kfold

log = logging.getLogger("automl")

GUARD_SHARE, INNER_FOLDS = 0.15, 5
# Below this many OOF rows the guard slice and inner folds are too small to tell strategies apart.
MIN_SEARCH_ROWS = 100
# Share of the search budget kept for the guard comparison and the final refit.
FINAL_SHARE = 0.3
# Share of the search budget stacking's next-layer models may take.
STACKING_SHARE = 0.4
# The strategies the study searches.
SEARCHED = ("best", "ges", "cmaes", "qo", "qdo", "des", "stacking")
# Below this many effective rows (evidence.effective_rows: rows, or the minority class times the
# classes) strategies that learn from rows need this much evidence: on a held-out table with
# ~450 positives, stacking looked 0.03 AUC better than the best model cross-fitted and was worse
# on test.
FEW_ROWS, FEW_ROWS_EVIDENCE = 1000, 0.99
# Cost guards: stacking's next layer reads rows x models x outputs inputs, DES searches neighbours
# among all rows; above these sizes one trial would take minutes, so they are left out.
MAX_STACKING_CELLS, MAX_DES_ROWS = 20_000_000, 50_000
DEFAULT_N_TRIALS = 50
DEFAULT_TRIALS = ({"strategy": "best"}, {"strategy": "ges", "ges_iterations": 25},
                  {"strategy": "ges", "ges_iterations": 50})


@dataclass
class SearchResult:
    strategy: EnsembleStrategy  # fitted on all OOF rows
    report: pd.DataFrame  # one row per strategy tried
    trace: list[dict] = field(default_factory=list)  # one entry per trial

    def save_trace(self, path) -> None:
        payload = {"trials": self.trace, "report": self.report.to_dict(orient="records")}
        with open(path, "w") as f:
            json.dump(payload, f, indent=1, default=str)


def search_ensemble(store: PredictionStore, metric: Metric, budget: TimeBudget, *, seed: int = 0,
                    n_trials: int = DEFAULT_N_TRIALS, n_threads: int = 1) -> SearchResult:
    """Runs the study on ``store`` within ``budget`` and returns the winner fitted on all rows."""
    if len(store.y) < MIN_SEARCH_ROWS:
        return _plain_ges(store, metric, seed, [], f"fewer than {MIN_SEARCH_ROWS} rows: no search")
    return _Search(store, metric, seed, n_threads).run(budget, n_trials)


def _plain_ges(store: PredictionStore, metric: Metric, seed: int, trace: list, reason: str) -> SearchResult:
    """GES 50 on every model and row: the fallback when the search cannot decide."""
    log.info("Ensemble search: %s; using GES.", reason)
    strategy = GreedyEnsemble(metric, store.task, seed).fit(store.oof, store.y)
    report = pd.DataFrame([{"strategy": "ges", "chosen": True, "reason": reason}])
    return SearchResult(strategy, report, trace)


class _Search:
    def __init__(self, store: PredictionStore, metric: Metric, seed: int, n_threads: int):
        self.store, self.metric, self.seed, self.n_threads = store, metric, seed, n_threads
        self.task, self.y, self.oof = store.task, store.y, store.oof
        self.families = [r.family for r in store.records]
        rows = np.arange(len(self.y))
        stratify = self.y if can_stratify(self.y, self.task) else None
        self.study_rows, self.guard_rows = (np.sort(part) for part in train_test_split(
            rows, test_size=GUARD_SHARE, random_state=seed, stratify=stratify))
        y_study = self.y[self.study_rows]
        self.folds = [(self.study_rows[a], self.study_rows[b]) for a, b in kfold(
            y_study, INNER_FOLDS, self.task, seed).split(y_study, y_study)]
        self.single_losses = MixtureLoss(metric, self.oof[:, self.study_rows], y_study).of_each_model()
        self.stacked = None  # layer-1 + layer-2 OOF columns for every row, trained on study rows
        self.study_budget, self.stacking_seconds = TimeBudget(None), None  # set by run
        # Each strategy's best trial (the earliest of equal losses, as _choose picks it): its
        # cross-validated loss and held-out predictions.
        self.cross_fitted: dict[str, tuple[float, np.ndarray]] = {}
        too_costly = {"stacking": self.oof.size > MAX_STACKING_CELLS, "des": len(self.y) > MAX_DES_ROWS}
        self.strategies = [name for name in SEARCHED if not too_costly.get(name, False)]
        self.trace: list[dict] = []

    # ------------------------------------------------------------------ the study
    def run(self, budget: TimeBudget, n_trials: int) -> SearchResult:
        study_budget = budget.sub(budget.remaining() * (1 - FINAL_SHARE)) if budget.limited else budget
        self.study_budget = study_budget
        self.stacking_seconds = study_budget.remaining() * STACKING_SHARE if budget.limited else None
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
        name, params, pool = self._suggest(trial)
        entry = {"trial": trial.number, "strategy": name, "params": params, "pool": pool.tolist(),
                 "fold_losses": [], "state": "complete"}
        self.trace.append(entry)
        cross_fitted = np.zeros(self.oof.shape[1:], dtype=np.float32)
        try:
            for step, (train, held) in enumerate(self.folds):
                if budget.expired():
                    raise optuna.TrialPruned("search time is up")
                fold_budget = budget.sub(budget.remaining() / (len(self.folds) - step)) if budget.limited else None
                strategy = self._make(name, params, pool).fit(*self._inputs(name, train),
                                                              **self._store_info(train, fold_budget))
                predictions, y_held, features = self._inputs(name, held)
                cross_fitted[held] = strategy.predict(predictions, features)
                loss = self.metric.loss(y_held, cross_fitted[held])
                entry["fold_losses"].append(loss)
                trial.report(loss, step)
                if trial.number >= len(DEFAULT_TRIALS) and trial.should_prune():  # defaults always finish
                    raise optuna.TrialPruned()
        except optuna.TrialPruned:
            entry["state"] = "pruned"
            raise
        except Exception as exc:  # a failing strategy is logged and skipped, like a failing model
            entry["state"] = f"failed: {type(exc).__name__}: {exc}"
            log.warning("Ensemble search: trial %d (%s) failed: %s", trial.number, name, exc)
            raise
        finally:
            entry["seconds"] = time.perf_counter() - start
        entry["cv_loss"] = float(np.mean(entry["fold_losses"]))
        if entry["cv_loss"] < self.cross_fitted.get(name, (np.inf,))[0]:
            self.cross_fitted[name] = (entry["cv_loss"], cross_fitted)
        return entry["cv_loss"]

    def _suggest(self, trial: optuna.Trial) -> tuple[str, dict, np.ndarray]:
        name = trial.suggest_categorical("strategy", self.strategies)
        params: dict = {}
        if name in ("ges", "stacking"):
            params["n_iterations"] = trial.suggest_int("ges_iterations", 25, 100, step=25)
        if name == "ges":
            params["sorted_init"] = trial.suggest_categorical("ges_sorted_init", [0, 3, 5])
        if name == "des":
            params["k"] = trial.suggest_categorical("des_k", [5, 7, 11, 15])
            params["space"] = trial.suggest_categorical("des_space", ["features", "predictions"])
            if self.task != "regression":
                params["method"] = trial.suggest_categorical("des_method", ["knora_e", "knora_u"])
        if name in ("best", "stacking"):  # stacking's next layer is trained once, on every model
            return name, params, np.arange(len(self.oof))
        # DES runs every pool model on every row and searches neighbours among their outputs: small pools.
        top_k = trial.suggest_categorical("des_top_k" if name == "des" else "pool_top_k",
                                          [5, 10] if name == "des" else [0, 5, 10, 20])
        family_cap = trial.suggest_categorical("pool_family_cap", [0, 1, 2, 3])
        pool = select_pool(self.single_losses, self.families, top_k or None, family_cap or None)
        return name, params, pool

    # ------------------------------------------------------------------ fitting pieces
    def _make(self, name: str, params: dict, pool: np.ndarray) -> EnsembleStrategy:
        if name == "stacking":  # GES on top of the precomputed layer-1 + layer-2 columns
            return GreedyEnsemble(self.metric, self.task, self.seed, n_threads=self.n_threads, **params)
        return Pooled(STRATEGIES[name](self.metric, self.task, self.seed, n_threads=self.n_threads, **params), pool)

    def _inputs(self, name: str, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, object]:
        """(predictions, targets, features) of ``rows`` as the strategy ``name`` reads them."""
        features = None if self.store.features is None else self.store.features.take(rows)
        columns = self._stacked_columns() if name == "stacking" else self.oof
        return columns[:, rows], self.y[rows], features

    def _store_info(self, rows: np.ndarray, budget: TimeBudget | None) -> dict:
        return {"fold_of": self.store.fold_of[rows], "records": self.store.records, "budget": budget}

    def _stacked_columns(self) -> np.ndarray:
        if self.stacked is None:
            stack = StackingEnsemble(self.metric, self.task, self.seed, models=("linear", "lightgbm"),
                                     guard=False, n_threads=self.n_threads)
            rows = self.study_rows
            features = self.store.features
            budget = self.study_budget.sub(self.stacking_seconds)  # ends with the study, however late it starts
            study_columns = stack.fit_layers(self.oof[:, rows], self.y[rows], _take(features, rows),
                                             self.store.fold_of[rows], budget)
            self.stacked = np.zeros((len(study_columns), len(self.y), self.oof.shape[2]), dtype=np.float32)
            self.stacked[:, rows] = study_columns
            self.stacked[:, self.guard_rows] = stack.transform(self.oof[:, self.guard_rows],
                                                              _take(features, self.guard_rows))
        return self.stacked

    # ------------------------------------------------------------------ the decision
    def _choose(self, budget: TimeBudget) -> SearchResult:
        done = [e for e in self.trace if e["state"] == "complete"]
        best_of = {}
        for entry in sorted(done, key=lambda e: (e["cv_loss"], e["trial"])):
            best_of.setdefault(entry["strategy"], entry)
        if "ges" not in best_of:  # time ran out before GES finished: nothing to compare with
            return _plain_ges(self.store, self.metric, self.seed, self.trace, "no GES trial finished in time")
        honest, rows = {}, {}
        for name, entry in best_of.items():
            guarded, seconds_per_1k, n_used = self._guard_predictions(entry, budget)
            honest[name] = self.cross_fitted[name][1].copy()
            honest[name][self.guard_rows] = guarded
            rows[name] = {"strategy": name, "trial": entry["trial"], "params": entry["params"],
                          "pool_size": len(entry["pool"]), "cv_score": self._score(entry["cv_loss"]),
                          "guard_score": self.metric.score(self.y[self.guard_rows], guarded),
                          "honest_score": self.metric.score(self.y, honest[name]), "models_used": n_used,
                          "predict_seconds_per_1k": seconds_per_1k, "win_probability": np.nan,
                          "evidence_needed": np.nan}
        winner, reason = self._chain(honest, rows)
        report = pd.DataFrame(list(rows.values()))
        report["chosen"] = report["strategy"] == winner
        report["reason"] = np.where(report["chosen"], reason, "")
        strategy = self._final(best_of[winner], budget)
        log.info("Ensemble search: %d trials, chose %s (%s).", len(self.trace), winner, reason)
        report = report.sort_values("honest_score", ascending=not self.metric.greater_is_better, ignore_index=True)
        return SearchResult(strategy, report, self.trace)

    def _chain(self, honest: dict[str, np.ndarray], rows: dict[str, dict]) -> tuple[str, str]:
        """Single best -> GES -> the strongest other strategy, each step taken only when the
        challenger wins on enough paired bootstrap resamples of the honest predictions."""
        incumbent = "best" if "best" in honest else "ges"
        others = [name for name in honest if name not in ("best", "ges")]
        challengers = (["ges"] if incumbent == "best" else []) + \
            ([min(others, key=lambda name: self.metric.loss(self.y, honest[name]))] if others else [])
        reason = "the single best model" if incumbent == "best" else "GES"
        for challenger in challengers:
            p = win_probability(self.metric, self.y, honest[challenger], honest[incumbent], task=self.task,
                                seed=self.seed)
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
        if strategy.learns_from_rows and effective_rows(self.y, self.task) < FEW_ROWS:
            return max(strategy.evidence_needed, FEW_ROWS_EVIDENCE)
        return strategy.evidence_needed

    def _guard_predictions(self, entry: dict, budget: TimeBudget) -> tuple[np.ndarray, float, int]:
        """(guard-slice predictions, seconds per 1,000 rows at predict time, models used) of a
        trial refitted on the study rows."""
        name = entry["strategy"]
        strategy = self._make(name, entry["params"], np.array(entry["pool"])).fit(
            *self._inputs(name, self.study_rows), **self._store_info(self.study_rows, budget.sub(None)))
        predictions, _, features = self._inputs(name, self.guard_rows)
        start = time.perf_counter()
        guarded = strategy.predict(predictions, features)
        combine = time.perf_counter() - start
        used = np.arange(len(self.oof)) if name == "stacking" else strategy.used_models  # all feed layer 2
        model_seconds = sum(self.store.records[j].predict_seconds_per_1k for j in used)
        return guarded, model_seconds + combine * 1000 / len(self.guard_rows), len(used)

    def _final(self, entry: dict, budget: TimeBudget) -> EnsembleStrategy:
        """The winner refitted on all OOF rows."""
        everything = np.arange(len(self.y))
        if entry["strategy"] == "stacking":
            strategy = StackingEnsemble(self.metric, self.task, self.seed, models=("linear", "lightgbm"),
                                        guard=False, n_threads=self.n_threads, **entry["params"])
            return strategy.fit(self.oof, self.y, self.store.features, fold_of=self.store.fold_of,
                                budget=budget.sub(None))
        strategy = self._make(entry["strategy"], entry["params"], np.array(entry["pool"]))
        return strategy.fit(*self._inputs(entry["strategy"], everything),
                            **self._store_info(everything, budget.sub(None)))

    def _score(self, loss: float) -> float:
        return -loss if self.metric.greater_is_better else loss


def _take(features, rows):
    return None if features is None else features.take(rows)
